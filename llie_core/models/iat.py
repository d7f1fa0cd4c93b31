"""The IAT family as torch modules: IAT (Cui et al., BMVC 2022) and the published IAT student.

Both networks see the (normalised) input x and predict a per-pixel multiply map and add map
(local branch) and one gamma and one 3×3 colour matrix M per image (global branch); the output is

    out = clamp(M · (x·mul + add), 1e-8, 1) ^ gamma        (M applied per pixel: out_c = Σ_k M[c,k]·y_k)

Estimate / apply split: ``estimate`` runs both branches on an image (at any resolution) and
returns the maps in the [0, 1]-input convention, i.e. with the checkpoint's input normalisation
folded in (for Normalize(0.5, 0.5): x_n·mul + add = x·(2·mul) + (add − mul)), plus the global
parameters. ``apply_maps`` then enhances a [0, 1] image of any size with them, upsampling the
maps bilinearly. So callers never see the normalisation, and an estimate made on a downscaled
frame applies to the full-resolution one.
With ``scale_factor`` s > 1 the forward pass does exactly that: estimate at ⌈H/s⌉×⌈W/s⌉
(bilinear, align_corners=False, no antialias), apply at H×W. With s = 1 it is the published model.

The published weights do not survive a large s: against the full-resolution run, benchmarks/iat_split.py
measures on 28 real 1080p frames 36.5 dB mean at s = 2 (min 27-29), 29.5 at s = 4, 24 at s = 8, and
s = 2 on the 256² and 600×400 golden inputs gives only 26-29 dB; so the default stays s = 1. The loss
comes mostly from the global branch, whose gamma and colour matrix depend on the resolution it sees
(globals alone from s = 8: 26 dB), then from detail in the maps that upsampling cannot restore (even
the full-resolution maps area-downscaled by 8 and upsampled again: 31-34 dB).
Maps are upsampled with align_corners=False (sample centres, as the downscale places them): 0.1-0.2 dB
better than the curve models' align_corners=True at s = 4-12.

The student's global head pools its features to 64×64 with adaptive average pooling; that is
written here as two averaging matrices (``adaptive_avg_pool``) because torch's own op exports to
ONNX with its bins fixed to the example size (wrong at other sizes).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from llie_core.curves import check_scale_factor, estimation_size
from llie_core.kernels import MAPS, SMOOTHED_MAPS
from llie_core.registry import INPUT_RANGES, get_spec

# Clamp floor of the published models: keeps pow(·, gamma) finite for gamma < 1.
FLOOR = 1e-8
GLOBALS = 10  # [gamma, M row-major (9)]


def binomial_blur(x: torch.Tensor) -> torch.Tensor:
    """N×C×H×W → the same blurred by the 3×3 binomial [1, 2, 1]ᵀ·[1, 2, 1] / 16, the border replicated."""
    taps = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype, device=x.device)
    kernel = (taps[:, None] * taps[None]) / 16
    channels = x.shape[1]
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel.expand(channels, 1, 3, 3), groups=channels)


def presmoothed(x: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """x̃ of ``apply_maps``: x (N×3×H×W) itself for N×6×H×W maps, x + β·(binomial_blur(x) − x) for N×9×H×W ones."""
    if maps.shape[1] != SMOOTHED_MAPS:
        return x
    return x + maps[:, 6:] * (binomial_blur(x) - x)


def pre_colour(x: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """x̃·mul + add (N×3×H×W), the image before the colour matrix and gamma, for maps at x's size (N×6 or N×9)."""
    return presmoothed(x, maps) * maps[:, :3] + maps[:, 3:6]


def apply_maps(x: torch.Tensor, maps: torch.Tensor, params: torch.Tensor, align_corners: bool = False) -> torch.Tensor:
    """Enhance x with IAT maps and global parameters: clamp(M·(x̃·mul + add), 1e-8, 1)^gamma.

    x: N×3×H×W in [0, 1]; maps: N×6×h×w [mul RGB, add RGB] or N×9×h×w [mul RGB, add RGB, smoothing weight
    RGB] ([0, 1]-input convention, upsampled bilinearly when h×w ≠ H×W); params: N×10 [gamma, M row-major]
    → N×3×H×W. x̃ is x, or with a smoothing weight β, x + β·(binomial_blur(x) − x).
    """
    if maps.shape[1] not in (MAPS, SMOOTHED_MAPS):
        raise ValueError(f"maps have {maps.shape[1]} channels; expected {MAPS} or {SMOOTHED_MAPS}")
    if maps.shape[-2:] != x.shape[-2:]:
        maps = F.interpolate(maps, size=x.shape[-2:], mode="bilinear", align_corners=align_corners)
    y = pre_colour(x, maps)
    n, _, height, width = y.shape
    matrix = params[:, 1:].reshape(n, 3, 3)
    y = torch.bmm(matrix, y.reshape(n, 3, height * width)).reshape(n, 3, height, width)
    return torch.clamp(y, FLOOR, 1.0) ** params[:, :1].reshape(n, 1, 1, 1)


def _pool_matrix(n_in: int, n_out: int, like: torch.Tensor) -> torch.Tensor:
    """n_out×n_in averaging weights of adaptive average pooling along one axis (torch's bin rule)."""
    i = torch.arange(n_out, device=like.device)
    start = torch.div(i * n_in, n_out, rounding_mode="floor")
    end = torch.div((i + 1) * n_in + n_out - 1, n_out, rounding_mode="floor")
    r = torch.arange(n_in, device=like.device)
    inside = (r[None] >= start[:, None]) & (r[None] < end[:, None])
    return inside.to(like.dtype) / (end - start).to(like.dtype)[:, None]


def adaptive_avg_pool(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """F.adaptive_avg_pool2d as two matrix products, exportable with dynamic H, W: N×C×H×W → N×C×h×w."""
    rows = _pool_matrix(x.shape[-2], size[0], x)
    cols = _pool_matrix(x.shape[-1], size[1], x)
    return torch.matmul(torch.matmul(rows, x), cols.transpose(0, 1))


class AdaptiveAvgPool(nn.Module):
    """Module form of ``adaptive_avg_pool``."""

    def __init__(self, size: tuple[int, int]) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×C×H×W → N×C×h×w."""
        return adaptive_avg_pool(x, self.size)


class IATFamily(nn.Module):
    """Base of the family: normalise, predict maps and global parameters, apply them at full resolution."""

    spec_name = ""
    # The registry's input range is that of the weights shipped under spec_name; an architecture that is only
    # published (the published student) carries its own.
    default_input_range: str | None = None

    def __init__(self, scale_factor: int | None = None, input_range: str | None = None) -> None:
        super().__init__()
        spec = get_spec(self.spec_name)
        scale_factor = check_scale_factor(spec.default_scale_factor if scale_factor is None else scale_factor)
        if input_range is None:
            input_range = self.default_input_range or spec.input_range
        if input_range not in INPUT_RANGES:
            raise ValueError(f"input_range must be one of {INPUT_RANGES}, got {input_range!r}")
        self.scale_factor = scale_factor
        self.input_range = input_range

    def predict(self, xn: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mul N×3×h×w, add N×3×h×w, params N×10) for a normalised input N×3×h×w, as the network computes them."""
        raise NotImplementedError

    def estimate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(maps N×6×h×w in the [0, 1]-input convention, params N×10) for an N×3×h×w RGB image in [0, 1]."""
        if self.input_range == "signed":
            mul, add, params = self.predict((x - 0.5) / 0.5)
            return torch.cat([mul * 2.0, add - mul], dim=1), params
        mul, add, params = self.predict(x)
        return torch.cat([mul, add], dim=1), params

    def enhance_with_maps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(enhanced N×3×H×W, maps at estimation resolution, params N×10) for an N×3×H×W RGB image in [0, 1]."""
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[-1] < 1 or x.shape[-2] < 1:
            raise ValueError(f"expected an N×3×H×W tensor with H, W >= 1, got shape {tuple(x.shape)}")
        low = x
        if self.scale_factor > 1:
            size = estimation_size(x.shape[-2], x.shape[-1], self.scale_factor)
            low = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        maps, params = self.estimate(low)
        return apply_maps(x, maps, params), maps, params

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Enhanced N×3×H×W RGB tensor in [0, 1] for an N×3×H×W RGB tensor in [0, 1]."""
        return self.enhance_with_maps(x)[0]


# --- IAT -------------------------------------------------------------------------------------------


class ChannelMixAffine(nn.Module):
    """IAT's normalisation ("Aff_channel"): a learned C×C channel mixing, then per-channel scale and shift."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, dim))
        self.color = nn.Parameter(torch.eye(dim))

    def fold_into(self, conv: nn.Conv2d) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight out×C, bias out) of ``conv`` (1×1) applied after this normalisation, as one linear map."""
        weight = conv.weight.flatten(1)
        mix = self.color * self.alpha.reshape(-1, 1)  # y = diag(alpha)·color·x + beta
        return weight @ mix, weight @ self.beta.reshape(-1) + conv.bias


class PointwiseMlp(nn.Module):
    """1×1 conv, GELU, 1×1 conv (parameters only: LocalBlock runs them as matrix products)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, dim, 1)


def _pointwise(weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor, base: torch.Tensor | None = None):
    """``base`` + a 1×1 conv of x, as one matrix product over N×C×(H·W) (2-3x faster than torch's 1×1 conv on CPU)."""
    bias = bias.reshape(1, -1, 1)
    start = bias if base is None else base + bias
    return torch.baddbmm(start, weight.expand(x.shape[0], -1, -1), x)


class LocalBlock(nn.Module):
    """IAT's conv "transformer" block: depthwise positional conv, 5×5 depthwise attention conv, MLP; scaled residuals.

    Each normalisation is folded into the 1×1 conv after it and each residual scale into the 1×1
    conv before it (linear maps in a row): the same function with fewer passes over the image.
    """

    def __init__(self, dim: int = 16, mlp_ratio: int = 4) -> None:
        super().__init__()
        self.pos_embed = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = ChannelMixAffine(dim)
        self.conv1 = nn.Conv2d(dim, dim, 1)
        self.attn = nn.Conv2d(dim, dim, 5, padding=2, groups=dim)
        self.conv2 = nn.Conv2d(dim, dim, 1)
        self.gamma_1 = nn.Parameter(torch.full((1, dim, 1, 1), 1e-4))
        self.norm2 = ChannelMixAffine(dim)
        self.mlp = PointwiseMlp(dim, dim * mlp_ratio)
        self.gamma_2 = nn.Parameter(torch.full((1, dim, 1, 1), 1e-4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×dim×H×W → N×dim×H×W."""
        n, c, height, width = x.shape
        x = (x + self.pos_embed(x)).reshape(n, c, height * width)
        scale_1, scale_2 = self.gamma_1.reshape(-1, 1), self.gamma_2.reshape(-1, 1)
        t = _pointwise(*self.norm1.fold_into(self.conv1), x).reshape(n, c, height, width)
        t = self.attn(t).reshape(n, c, height * width)
        x = _pointwise(self.conv2.weight.flatten(1) * scale_1, self.conv2.bias * scale_1[:, 0], t, base=x)
        hidden = F.gelu(_pointwise(*self.norm2.fold_into(self.mlp.fc1), x))
        fc2 = self.mlp.fc2
        x = _pointwise(fc2.weight.flatten(1) * scale_2, fc2.bias * scale_2[:, 0], hidden, base=x)
        return x.reshape(n, c, height, width)


class LocalBranch(nn.Module):
    """3×3 conv to 16 channels, LeakyReLU(0.2); two stacks of 3 blocks with a skip → mul (ReLU) and add (tanh)."""

    def __init__(self, dim: int = 16, blocks: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, dim, 3, padding=1)
        self.mul_blocks = nn.Sequential(*(LocalBlock(dim) for _ in range(blocks)))
        self.add_blocks = nn.Sequential(*(LocalBlock(dim) for _ in range(blocks)))
        self.mul_end = nn.Sequential(nn.Conv2d(dim, 3, 3, padding=1), nn.ReLU())
        self.add_end = nn.Sequential(nn.Conv2d(dim, 3, 3, padding=1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """N×3×H×W → (mul, add), each N×3×H×W."""
        features = F.leaky_relu(self.conv1(x), 0.2)
        mul = self.mul_end(self.mul_blocks(features) + features)
        add = self.add_end(self.add_blocks(features) + features)
        return mul, add


class ConvEmbedding(nn.Module):
    """Two stride-2 3×3 convs with BatchNorm (GELU between): N×3×H×W → N×dim×⌈H/4⌉×⌈W/4⌉."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__()
        self.proj = nn.Sequential(
            nn.Conv2d(3, dim // 2, 3, stride=2, padding=1),
            nn.BatchNorm2d(dim // 2),
            nn.GELU(),
            nn.Conv2d(dim // 2, dim, 3, stride=2, padding=1),
            nn.BatchNorm2d(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W → N×dim×h×w."""
        return self.proj(x)


class QueryAttention(nn.Module):
    """Learned queries attending over the image tokens (multi-head, no key/value bias)."""

    def __init__(self, dim: int = 64, heads: int = 4, queries: int = 10) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Parameter(torch.ones(1, queries, dim))
        self.k = nn.Linear(dim, dim, bias=False)
        self.v = nn.Linear(dim, dim, bias=False)
        self.proj = nn.Linear(dim, dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """N×T×dim tokens → N×queries×dim."""
        n, t, dim = tokens.shape
        head_dim = dim // self.heads
        k = self.k(tokens).reshape(n, t, self.heads, head_dim).transpose(1, 2)
        v = self.v(tokens).reshape(n, t, self.heads, head_dim).transpose(1, 2)
        q = self.q.expand(n, -1, -1).reshape(n, -1, self.heads, head_dim).transpose(1, 2)
        weights = torch.softmax((q @ k.transpose(-2, -1)) * head_dim**-0.5, dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(n, -1, dim)
        return self.proj(out)


class TokenMlp(nn.Module):
    """Linear, GELU, Linear on tokens."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×T×dim → N×T×dim."""
        return self.fc2(F.gelu(self.fc1(x)))


class QueryGenerator(nn.Module):
    """Positional depthwise conv, then 10 learned queries read the image (no residual), then an MLP with residual."""

    def __init__(self, dim: int = 64, heads: int = 4) -> None:
        super().__init__()
        self.pos_embed = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = QueryAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = TokenMlp(dim, dim * 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×dim×h×w → N×10×dim."""
        x = x + self.pos_embed(x)
        q = self.attn(self.norm1(x.flatten(2).transpose(1, 2)))
        return q + self.mlp(self.norm2(q))


class GlobalBranch(nn.Module):
    """IAT's global branch: query 0 → gamma (+ learned base), queries 1..9 → 3×3 colour matrix (+ learned base)."""

    def __init__(self, dim: int = 64, heads: int = 4) -> None:
        super().__init__()
        self.gamma_base = nn.Parameter(torch.ones(1))
        self.color_base = nn.Parameter(torch.eye(3))
        self.conv_large = ConvEmbedding(dim)
        self.generator = QueryGenerator(dim, heads)
        self.gamma_linear = nn.Linear(dim, 1)
        self.color_linear = nn.Linear(dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W → N×10: [gamma, M row-major]."""
        q = self.generator(self.conv_large(x))
        gamma = self.gamma_linear(q[:, 0]) + self.gamma_base
        color = self.color_linear(q[:, 1:]).squeeze(-1) + self.color_base.reshape(1, 9)
        return torch.cat([gamma, color], dim=1)


class IAT(IATFamily):
    """Illumination-Adaptive Transformer: conv-block local branch and query-attention global branch."""

    spec_name = "iat"

    def __init__(self, scale_factor: int | None = None, input_range: str | None = None) -> None:
        super().__init__(scale_factor, input_range)
        self.local_net = LocalBranch()
        self.global_net = GlobalBranch()

    def predict(self, xn: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mul, add, params) for a normalised input N×3×h×w."""
        mul, add = self.local_net(xn)
        return mul, add, self.global_net(xn)


# --- IAT student ------------------------------------------------------------------------------------


class ResidualBlock(nn.Module):
    """conv3×3-BN-ReLU-conv3×3-BN plus the input (no bias on the convs, no activation after the sum)."""

    def __init__(self, dim: int = 16) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(dim, dim, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(dim)
        self.conv2 = nn.Conv2d(dim, dim, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×dim×H×W → N×dim×H×W."""
        return x + self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))


class IATStudent(IATFamily):
    """The published IAT student: shared conv, 2 residual BN blocks per map, global head on pooled features.

    Built for the published checkpoint only (``create_model("iat_student", weights="reference")``); the
    registry's default ``iat_student`` is llie's own (models/iat_student.py).
    """

    spec_name = "iat_student"
    default_input_range = "signed"
    PUBLISHED_KEY = "global_refine.1.weight"  # a key only the published layout has

    def __init__(self, scale_factor: int | None = None, input_range: str | None = None, dim: int = 16) -> None:
        super().__init__(scale_factor, input_range)
        self.shared_conv1 = nn.Conv2d(3, dim, 3, padding=1)
        self.mul_blocks = nn.Sequential(ResidualBlock(dim), ResidualBlock(dim))
        self.add_blocks = nn.Sequential(ResidualBlock(dim), ResidualBlock(dim))
        self.mul_end = nn.Sequential(nn.Conv2d(dim, 3, 3, padding=1), nn.ReLU())
        self.add_end = nn.Sequential(nn.Conv2d(dim, 3, 3, padding=1), nn.Tanh())
        self.global_refine = nn.Sequential(
            AdaptiveAvgPool((64, 64)),
            nn.Conv2d(3 * dim, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.gamma_head = nn.Sequential(nn.Linear(32, 1), nn.Sigmoid())
        self.color_head = nn.Linear(32, 9)
        self.register_buffer("identity", torch.eye(3))

    def predict(self, xn: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mul, add, params) for a normalised input N×3×h×w; the colour matrix is the head's output + I."""
        shared = F.leaky_relu(self.shared_conv1(xn), 0.2)
        mul_features = self.mul_blocks(shared) + shared
        add_features = self.add_blocks(shared) + shared
        pooled = self.global_refine(torch.cat([shared, mul_features, add_features], dim=1))
        color = self.color_head(pooled) + self.identity.reshape(1, 9)
        params = torch.cat([self.gamma_head(pooled), color], dim=1)
        return self.mul_end(mul_features), self.add_end(add_features), params
