"""LLPackNet (Lamba, Balaji and Mitra, BMVC 2020) as a torch module: a packed RAW frame in, sRGB out.

Input: the RAW mosaic in the canonical RGGB layout (``llie_core.bayer`` repacks the other patterns) as four
half-resolution planes N×4×h×w (R, G1, G2, B), black level subtracted, divided by white − black and multiplied
by the amplification; h and w multiples of 8 (a mosaic of multiples of 16). Output: N×3×2h×2w sRGB in [0, 1],
gamma-encoded and display-referred: the camera's white balance, colour matrix and tone are learned, as in SID,
whose targets are the camera's own sRGB rendering of the long exposure.

The network, per the paper: Pack (each plane space-to-depth by 8: 4 × 64 channels at 1/16 of the mosaic), one
3×3 conv + ReLU per colour (written as one grouped conv: the same weights), a 1×1 merge to 64 channels, three
residual dense blocks (6 layers, growth 32) whose outputs are fused by a 1×1 conv and added to the merge; pixel
shuffle 2 (16 channels at 1/8), one residual dense block on those, a 3×3 conv to 192 = 3·8·8 channels, sigmoid,
UnPack (depth-to-space by 8) to full resolution. 1,169,088 parameters (the paper: 1.17 M; its weight
normalisation, which adds one gain per output channel, is left out: it changes the parametrisation, not the
function).

``llpacknet_fast`` (``TOPOLOGIES``) is the same network with three 3-layer dense blocks at 1/16 and a 2-layer
block at 1/8: 503,488 parameters and about 40% of the paper topology's int8 time at 1080p, distilled from the
trained ``llpacknet`` (training/configs/llpacknet_fast.yaml).

Estimate / apply split: ``estimate`` is the network between the two packings, N×256×H/16×W/16 →
N×192×H/8×W/8 with the sigmoid applied; Pack and UnPack are pure reshuffles, which the engine does in its
compiled passes over the integer mosaic and the output frame (``llie_core.raw_kernels``), so the exported
estimator graph holds the convolutions alone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from llie_core.curves import check_scale_factor
from llie_core.raw_kernels import PACK, PLANES


def _conv(c_in: int, c_out: int, kernel: int = 3, bias: bool = False, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=bias, groups=groups)


class ResidualDenseBlock(nn.Module):
    """``layers`` 3×3 conv + ReLU layers each adding ``growth`` channels, a 1×1 fusion back to ``channels``, a skip."""

    def __init__(self, channels: int, layers: int = 6, growth: int = 32) -> None:
        super().__init__()
        self.dense = nn.ModuleList(_conv(channels + i * growth, growth) for i in range(layers))
        self.fuse = _conv(channels + layers * growth, channels, kernel=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×C×h×w → N×C×h×w."""
        features = x
        for conv in self.dense:
            features = torch.cat([features, F.relu(conv(features))], dim=1)
        return self.fuse(features) + x


class LLPackNet(nn.Module):
    """Packed RAW (N×4×h×w, canonical RGGB planes, amplified) → sRGB N×3×2h×2w in [0, 1].

    The defaults are the paper's topology; ``blocks`` residual dense blocks of ``layers`` × ``growth`` at 1/16
    and a ``fine`` block of ``fine_layers`` × ``fine_growth`` at 1/8 make lighter variants (``TOPOLOGIES``), whose
    ``spec_name`` (the registry name, written into their ONNX graphs) tells them apart.
    """

    def __init__(
        self,
        scale_factor: int = 1,
        blocks: int = 3,
        layers: int = 6,
        growth: int = 32,
        fine_layers: int = 6,
        fine_growth: int = 32,
        spec_name: str = "llpacknet",
    ) -> None:
        super().__init__()
        check_scale_factor(scale_factor)
        self.spec_name = spec_name
        # The engine's binning of the mosaic before the network (llie_core.raw_kernels); the module itself always
        # runs at the resolution it is given.
        self.scale_factor = scale_factor
        packed = PLANES * PACK * PACK
        self.per_colour = _conv(packed, packed, bias=True, groups=PLANES)
        self.merge = _conv(packed, 64, kernel=1)
        self.blocks = nn.ModuleList(ResidualDenseBlock(64, layers, growth) for _ in range(blocks))
        self.fuse = _conv(blocks * 64, 64, kernel=1)
        self.fine = ResidualDenseBlock(64 // 4, fine_layers, fine_growth)
        self.to_rgb = _conv(64 // 4, 3 * PACK * PACK, bias=True)

    def estimate(self, packed: torch.Tensor) -> torch.Tensor:
        """The network between Pack and UnPack: N×256×H/16×W/16 → N×192×H/8×W/8 in (0, 1)."""
        merged = self.merge(F.relu(self._per_colour(packed)))
        outputs, x = [], merged
        for block in self.blocks:
            x = block(x)
            outputs.append(x)
        x = self.fuse(torch.cat(outputs, dim=1)) + merged
        return torch.sigmoid(self.to_rgb(self.fine(pixel_shuffle_channels_last(x, 2))))

    def _per_colour(self, packed: torch.Tensor) -> torch.Tensor:
        """``self.per_colour`` (the grouped conv, its weights) computed as one conv per colour plane.

        Why: onnxruntime's int8 grouped convolution runs several times below its dense convolutions' rate; four
        convolutions of the four 64-channel slices and a concatenation take about 10% off the 1080p graph
        (measured on one thread: 88 → 80 ms for the paper's topology).
        """
        weights = self.per_colour.weight.chunk(PLANES)
        biases = self.per_colour.bias.chunk(PLANES)
        slices = packed.chunk(PLANES, dim=1)
        return torch.cat([F.conv2d(x, w, b, padding=1) for x, w, b in zip(slices, weights, biases, strict=True)], 1)

    def forward(self, planes: torch.Tensor) -> torch.Tensor:
        """N×4×h×w packed RAW (h, w multiples of 8) → N×3×2h×2w sRGB."""
        if planes.ndim != 4 or planes.shape[1] != PLANES or planes.shape[-2] % PACK or planes.shape[-1] % PACK:
            raise ValueError(
                f"expected N×4×h×w RGGB planes with h and w multiples of {PACK}, got shape {tuple(planes.shape)}"
            )
        return F.pixel_shuffle(self.estimate(F.pixel_unshuffle(planes, PACK)), PACK)


# The registry's RAW models: LLPackNet's topology options by name (the paper's, and a lighter one for 1080p at
# video rate on one CPU thread: three 3-layer dense blocks at 1/16 and a 2-layer block at 1/8).
TOPOLOGIES: dict[str, dict[str, int]] = {
    "llpacknet": {},
    "llpacknet_fast": {"layers": 3, "fine_layers": 2},
}


def pixel_shuffle_channels_last(x: torch.Tensor, factor: int) -> torch.Tensor:
    """``F.pixel_shuffle`` (the same values) written as a depth-to-space of the channels-last tensor.

    Why: onnxruntime runs int8 convolutions channels-last and moves a graph's transposes out of the way of every
    node it can, but not across DepthToSpace (the op ``F.pixel_shuffle`` exports as): all the convolutions after it
    got a transpose on each side (11% of the int8 graph's kernel time at 1080p). Here the exported transposes
    cancel the runtime's and one byte-sized reshuffle remains; the fine block's concatenations, channels-last
    now, take part of it back (about 3% net, measured interleaved on one thread).
    """
    n, c, h, w = x.shape
    nhwc = x.permute(0, 2, 3, 1).reshape(n, h, w, c // factor**2, factor, factor)
    shuffled = nhwc.permute(0, 1, 4, 2, 5, 3).reshape(n, h * factor, w * factor, c // factor**2)
    return shuffled.permute(0, 3, 1, 2)


def pack_planes(mosaic: torch.Tensor) -> torch.Tensor:
    """N×1×H×W RGGB mosaic → N×4×H/2×W/2 planes (R, G1, G2, B)."""
    return F.pixel_unshuffle(mosaic, 2)


def unpack_planes(planes: torch.Tensor) -> torch.Tensor:
    """N×4×h×w planes (R, G1, G2, B) → N×1×2h×2w RGGB mosaic (inverse of ``pack_planes``)."""
    return F.pixel_shuffle(planes, 2)
