"""The Zero-DCE family as torch modules: Zero-DCE, Zero-DCE++, SGZ and TinyDCE.

All three estimate light-enhancement curves LE(x; a) = x + a·(x² − x) and apply them
iteratively. Curves are estimated on a bilinear downscale of the input by ``scale_factor``
and upsampled back (Zero-DCE++'s trick), for every model here.

Size rule: curves are estimated at ⌈H/s⌉×⌈W/s⌉ (bilinear, align_corners=False, no antialias)
and upsampled to exactly H×W (bilinear, align_corners=True). When H and W are multiples of s
this is exactly the published computation; the published test code instead crops H and W down
to multiples of s, which drops up to s−1 rows and columns. Any size ≥ 1×1 works.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from llie_core.curves import check_scale_factor, estimation_size
from llie_core.registry import get_spec


def apply_curves(x: torch.Tensor, curves: torch.Tensor, iterations: int) -> torch.Tensor:
    """Apply ``iterations`` LE steps; curves has 3 channels (reused) or 3·iterations (one each).

    x: N×3×H×W, curves: N×3×H×W or N×(3·iterations)×H×W → N×3×H×W.
    """
    maps = torch.split(curves, 3, dim=1)
    for i in range(iterations):
        a = maps[i] if len(maps) > 1 else maps[0]
        x = x + a * (torch.pow(x, 2) - x)
    return x


class DepthwiseSeparableConv(nn.Module):
    """Depthwise 3x3 conv (groups = in channels) then pointwise 1x1 conv, both with bias."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.depth_conv = nn.Conv2d(in_ch, in_ch, 3, 1, 1, groups=in_ch)
        self.point_conv = nn.Conv2d(in_ch, out_ch, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×in×H×W → N×out×H×W."""
        return self.point_conv(self.depth_conv(x))


class CurveModel(nn.Module):
    """Base of the family: downscale, estimate curves, upsample, apply ``iterations`` LE steps."""

    spec_name = ""

    def __init__(self, scale_factor: int | None = None) -> None:
        super().__init__()
        spec = get_spec(self.spec_name)
        self.iterations = spec.iterations
        self.scale_factor = check_scale_factor(spec.default_scale_factor if scale_factor is None else scale_factor)

    def estimate(self, x: torch.Tensor) -> torch.Tensor:
        """Curve maps in [-1, 1] for an image at estimation resolution: N×3×h×w → N×C×h×w."""
        raise NotImplementedError

    def curves(self, x: torch.Tensor) -> torch.Tensor:
        """Full-resolution curve maps for a full-resolution image: N×3×H×W → N×C×H×W."""
        s = self.scale_factor
        if s == 1:
            return self.estimate(x)
        height, width = x.shape[-2:]
        low = F.interpolate(x, size=estimation_size(height, width, s), mode="bilinear", align_corners=False)
        return F.interpolate(self.estimate(low), size=(height, width), mode="bilinear", align_corners=True)

    def enhance_with_curves(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(enhanced image, full-resolution curve maps) for an N×3×H×W RGB tensor in [0, 1]."""
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[-1] < 1 or x.shape[-2] < 1:
            raise ValueError(f"expected an N×3×H×W tensor with H, W >= 1, got shape {tuple(x.shape)}")
        curves = self.curves(x)
        return apply_curves(x, curves, self.iterations), curves

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Enhanced N×3×H×W RGB tensor for an N×3×H×W RGB tensor in [0, 1]."""
        return self.enhance_with_curves(x)[0]


class ZeroDCE(CurveModel):
    """Zero-DCE (DCE-Net): 7 plain 3x3 convs, 32 channels, skips by concatenation, 8 curve maps."""

    spec_name = "zero_dce"

    def __init__(self, scale_factor: int | None = None) -> None:
        super().__init__(scale_factor)
        n = 32
        self.e_conv1 = nn.Conv2d(3, n, 3, 1, 1)
        self.e_conv2 = nn.Conv2d(n, n, 3, 1, 1)
        self.e_conv3 = nn.Conv2d(n, n, 3, 1, 1)
        self.e_conv4 = nn.Conv2d(n, n, 3, 1, 1)
        self.e_conv5 = nn.Conv2d(2 * n, n, 3, 1, 1)
        self.e_conv6 = nn.Conv2d(2 * n, n, 3, 1, 1)
        self.e_conv7 = nn.Conv2d(2 * n, 24, 3, 1, 1)

    def estimate(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×h×w → N×24×h×w: eight 3-channel maps, one per iteration."""
        x1 = F.relu(self.e_conv1(x))
        x2 = F.relu(self.e_conv2(x1))
        x3 = F.relu(self.e_conv3(x2))
        x4 = F.relu(self.e_conv4(x3))
        x5 = F.relu(self.e_conv5(torch.cat([x3, x4], 1)))
        x6 = F.relu(self.e_conv6(torch.cat([x2, x5], 1)))
        return torch.tanh(self.e_conv7(torch.cat([x1, x6], 1)))


class ZeroDCEpp(CurveModel):
    """Zero-DCE++: Zero-DCE's topology with depthwise-separable blocks and one 3-channel map."""

    spec_name = "zero_dce_pp"

    def __init__(self, scale_factor: int | None = None) -> None:
        super().__init__(scale_factor)
        n = 32
        self.e_conv1 = DepthwiseSeparableConv(3, n)
        self.e_conv2 = DepthwiseSeparableConv(n, n)
        self.e_conv3 = DepthwiseSeparableConv(n, n)
        self.e_conv4 = DepthwiseSeparableConv(n, n)
        self.e_conv5 = DepthwiseSeparableConv(2 * n, n)
        self.e_conv6 = DepthwiseSeparableConv(2 * n, n)
        self.e_conv7 = DepthwiseSeparableConv(2 * n, 3)

    def estimate(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×h×w → N×3×h×w: one map reused for all 8 iterations."""
        x1 = F.relu(self.e_conv1(x))
        x2 = F.relu(self.e_conv2(x1))
        x3 = F.relu(self.e_conv3(x2))
        x4 = F.relu(self.e_conv4(x3))
        x5 = F.relu(self.e_conv5(torch.cat([x3, x4], 1)))
        x6 = F.relu(self.e_conv6(torch.cat([x2, x5], 1)))
        return torch.tanh(self.e_conv7(torch.cat([x1, x6], 1)))


class SGZ(ZeroDCEpp):
    """SGZ (semantic-guided zero-shot): Zero-DCE++'s network and keys; only its training (and weights) differ."""

    spec_name = "sgz"


class TinyDCE(CurveModel):
    """TinyDCE (NanoDCE student): 3 depthwise-separable blocks 3→4→4→3, no skips, 4 iterations."""

    spec_name = "tiny_dce"

    def __init__(self, scale_factor: int | None = None) -> None:
        super().__init__(scale_factor)
        self.e_conv1 = DepthwiseSeparableConv(3, 4)
        self.e_conv2 = DepthwiseSeparableConv(4, 4)
        self.e_conv3 = DepthwiseSeparableConv(4, 3)

    def estimate(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×h×w → N×3×h×w: one map reused for all 4 iterations."""
        x1 = F.relu(self.e_conv1(x))
        x2 = F.relu(self.e_conv2(x1))
        return torch.tanh(self.e_conv3(x2))


MODEL_CLASSES: dict[str, type[CurveModel]] = {cls.spec_name: cls for cls in (ZeroDCE, ZeroDCEpp, SGZ, TinyDCE)}
