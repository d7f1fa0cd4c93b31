"""llie's own IAT student: collapse-proof by construction and made for the low-resolution estimate.

The published student (``iat.IATStudent``) reads its global parameters from features pooled over
the estimation-resolution image and predicts an unconstrained colour matrix: its gamma and matrix
change with the resolution it sees, and on bright frames the matrix turns all-negative (black
output). This student keeps the published outline (a shared 3×3 conv, BatchNorm residual blocks
for the multiply and add maps, a global head) with three changes:

- Both branches see the image and its log (``exposure_channels``): the dark end, where the teacher's
  gamma and gain change fastest, is spread out.
- The global head reads a fixed 32×32 area thumbnail of the image, so gamma and the colour matrix
  barely depend on the resolution the estimator runs at, and modulates the shared features (a
  per-channel scale and shift), so the local maps know the frame's exposure without a large
  receptive field.
- Every output is bounded: mul = softplus(·) ≥ 0, add = sigmoid(·) ∈ (0, 1), so y = x·mul + add
  ≥ 0; gamma ∈ [0.4, 1.2]; M = g·(I + R) with gain g ∈ [1/4, 4], diagonal residuals |R_cc| ≤ 0.15
  and off-diagonal ones in [−0.3, 0.6]. Every row of M then sums to ≥ 0.25·g > 0 and its
  diagonal is ≥ 0.85·g, so a non-negative grey y never maps to black, whatever the weights.
  (The LOL-v2 IAT teacher's matrices lie inside these bounds up to a gain: relative diagonal
  0.94–1.05, off-diagonals −0.28 to +0.44, which the upper bound clips at 0.6 at most.)
- Maps are trained to be upsampled (training/iat_student.py): estimated at a random reduced scale
  and applied at full resolution against the teacher's full-resolution output.
- Where the output amplifies the frame's own noise, the input is pre-smoothed at full resolution
  (``smoothing_weight``): x̃ = x + β·(b − x), b the 3×3 binomial blur of x, with β per pixel and channel
  rising from 0 at a noise gain d out/dx of 4 to 1 at 8 (``noise_gain``, computed in the estimator graph
  from the estimate itself, so it costs nothing at estimation size; the applier fuses the blur into its
  one pass). At s = 1 the student's add map carried a denoised image (its per-pixel detail), which
  upsampled maps lose: on lol_eval15_low (≤ 512) NIQE is 3.90 at s = 1, 4.42 at s = 2 and 4.42 with s = 1's
  own maps down- and upsampled by 2 (4.52 with only the add map so, 3.87 with only mul).
  The blur and the gain thresholds were chosen on zerodcepp_real (64 real low-light photos, no evaluation
  set; NIQE 4.63 → 4.53, PSNR to the teacher 29.4 → 29.5 dB) among β_max 0.5-1 and thresholds 2-5 to 8-16;
  a 5×5 Gaussian (σ 1) or a 3×3 box smoothed worse, fast guided-filter upsampling of the maps (luma guide)
  raised NIQE on lol_eval15_low to 4.59-4.69.
- The gain alone misses frames that are noisy but only dim: highway_dev training frames at 600×400 darkened on a
  Bayer mosaic (light ÷16 and ÷32, 4,000 e⁻; a camera's correlated noise) have gain medians of 3-5, so β stays
  near 0, and NIQE 6.8 / 6.0 (native lol_eval15_low: 5.28). So β is the larger of that ramp and one on the
  amplified noise g·σ from 4 to 8 codes (``SMOOTHING_NOISE``), σ the frame's luma noise estimated in the same
  graph from the estimator's input (``frame_noise``: Immerkær's operator, the flattest of a 4×4 grid of tiles, as
  texture raises the others); on a clean frame nothing changes, and the applier is the same. Chosen on training-side
  images only by benchmarks/iat_presmoothing.py (its rule, candidates and figures): NIQE on those frames 6.41 →
  6.08 and PSNR to the teacher +0.1 dB, zerodcepp_real and bdd100k_night within 0.01 at native size and <= 512.
  On the evaluation sets (card) it leaves native lol_eval15_low at 5.28 (its frames read σ ≈ 0.8 codes at a gain
  of 4: the ramp seldom fires), moves sci_difficult 4.09 → 3.75 and native lime 3.94 → 4.05, and raises
  heavy-noise detection AP50 42.5 → 53.9.
- Where the flattest tile's noise is sensor noise, the g·σ ramp starts lower, 1 → 4 codes (``SMOOTHING_SENSOR``):
  its weight rises from 0 to 1 as ρ, that tile's largest channel σ over its luma σ (``frame_noise``), goes from 1.3
  to 1.45. Noise independent per channel (a demosaiced sensor's) is averaged down by the luma, ρ ≈ 1.5; texture and a
  JPEG's smoothed chroma are the same in every channel, ρ ≈ 1. On frames with lol_eval15_low's input statistics
  (σ ≈ 0.7 codes at a gain of 4) the shipped ramp stayed off, while real photos with the same σ and gain
  (zerodcepp_real, ρ 1.1-1.3) lost NIQE to any lower ramp. Chosen on training-side images only by
  benchmarks/iat_presmoothing.py's third sweep: NIQE on the three Bayer-mosaic proxies 5.95 → 5.26, PSNR to the
  teacher +0.1-0.3 dB, zerodcepp_real +0.006 / +0.008 (native / <= 512), bdd100k_night unchanged; 1080p time unchanged.
  On the evaluation sets (card) native lol_eval15_low goes 5.28 → 4.10 (the teacher 4.08), native dicm 3.88 → 3.90,
  and detection AP50 at moderate / heavy noise 77.0 / 53.9 → 77.9 / 54.3.

The output formula is the family's: clamp(M·(x̃·mul + add), 1e-8, 1)^gamma, maps in the
[0, 1]-input convention (``input_range`` "unit") with three β channels after them, so ``apply_maps``
and the engine's applier are shared with the published models (which have no β: x̃ = x).

Shipped weights (card llie_core/weights/iat_student.yaml, max_estimation_side 256: s = 2 up to 512 px,
8 at 1080p): 0 of 121 standard images collapse at the card's point or s = 1 (the published student: 20);
estimated at 1080p/8 they are 47.0 dB from the same student at s = 1 (28 real frames, min 35.9; globals
alone 67 dB); PSNR to the teacher on dicm + lime + lol_eval15_low (longer side ≤ 512) 25.4 dB at the
card's point, 25.3 at s = 1 (with the pre-smoothing). Three training stages: distilled from the teacher, then
100 steps with a tenth of zero_dce_pp's output mixed into the output target (training/configs/iat_student_look.yaml),
then 100 more with half of zero_dce_pp's local contrast added to it (training/configs/iat_student_detail.yaml).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from llie_core.classical.denoise import NOISE_KERNEL
from llie_core.frames import LUMA_WEIGHTS
from llie_core.models.iat import AdaptiveAvgPool, IATFamily, ResidualBlock, adaptive_avg_pool
from llie_core.models.ramp import ramp

THUMBNAIL = (32, 32)  # what the global head sees, whatever the estimation resolution
GAMMA_RANGE = (0.4, 1.2)
GAIN_RANGE = (0.25, 4.0)
DIAGONAL_BOUND = 0.15  # |R_cc|
OFFDIAGONAL_RANGE = (-0.3, 0.6)  # R_ck, c ≠ k
_OFFDIAGONAL = torch.tensor([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]])
SMOOTHING_MAX = 1.0  # the largest pre-smoothing weight β
SMOOTHING_GAIN = (4.0, 8.0)  # noise gain where β starts to rise from 0 and where it reaches SMOOTHING_MAX
SMOOTHING_NOISE = (4.0, 8.0)  # amplified noise g·σ (8-bit codes) where β starts to rise and reaches SMOOTHING_MAX
# a lower ramp on g·σ (codes), weighted by a ramp on ρ (``frame_noise``): where the frame's noise is sensor noise
SMOOTHING_SENSOR = ((1.0, 4.0), (1.3, 1.45))
NOISE_TILES = (4, 4)  # the grid over which the frame's noise is estimated (one figure per tile)
Z_FLOOR = 1e-3  # pre-gamma value below which the gain's gamma factor stops growing


def exposure_channels(x: torch.Tensor) -> torch.Tensor:
    """N×3×h×w in [0, 1] → N×6×h×w: x − 0.5 and log2(x + 1/64)/6 + 0.5, both about [−0.5, 0.5].

    The log channels spread the dark end (x = 0.02 and 0.05 differ by 0.2 instead of 0.03), where the
    teacher's gamma and gain change fastest with the frame's exposure.
    """
    return torch.cat([x - 0.5, torch.log2(x + 1 / 64) / 6 + 0.5], dim=1)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def bounded_globals(raw: torch.Tensor) -> torch.Tensor:
    """N×11 unconstrained head outputs [gamma, log-gain, R row-major] → N×10 [gamma, M = g·(I + R) row-major]."""
    lo, hi = GAMMA_RANGE
    gamma = lo + (hi - lo) * torch.sigmoid(raw[:, :1])
    log_lo, log_hi = math.log(GAIN_RANGE[0]), math.log(GAIN_RANGE[1])
    gain = torch.exp(log_lo + (log_hi - log_lo) * torch.sigmoid(raw[:, 1:2]))
    off_lo, off_hi = OFFDIAGONAL_RANGE
    mask = _OFFDIAGONAL.to(raw).reshape(1, 9)
    diagonal = DIAGONAL_BOUND * torch.tanh(raw[:, 2:])
    off = off_lo + (off_hi - off_lo) * torch.sigmoid(raw[:, 2:])
    eye = (1 - mask).expand(raw.shape[0], -1)
    matrix = gain * (eye + mask * off + (1 - mask) * diagonal)
    return torch.cat([gamma, matrix], dim=1)


def identity_bias() -> torch.Tensor:
    """Head bias (11) for which ``bounded_globals`` gives gamma 1, M = I: the untrained student changes nothing."""
    lo, hi = GAMMA_RANGE
    log_lo, log_hi = math.log(GAIN_RANGE[0]), math.log(GAIN_RANGE[1])
    off_lo, off_hi = OFFDIAGONAL_RANGE
    bias = torch.zeros(11)
    bias[0] = _logit((1.0 - lo) / (hi - lo))
    bias[1] = _logit((0.0 - log_lo) / (log_hi - log_lo))
    bias[2:] = _logit((0.0 - off_lo) / (off_hi - off_lo)) * _OFFDIAGONAL.reshape(9)
    return bias


def noise_gain(x: torch.Tensor, maps: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """N×3×h×w: how much the output amplifies a grey change of x, d out_c / dx = γ·z_c^(γ−1)·Σ_k M_ck·mul_k.

    x: N×3×h×w in [0, 1]; maps N×6×h×w [mul RGB, add RGB] and params N×10 [gamma, M] estimated from it;
    z = M·(x·mul + add) is the pre-gamma value (floored at Z_FLOOR, where a dark frame's gain would diverge).
    """
    matrix = params[:, 1:, None, None]  # N×9×1×1, M row-major

    def mix(v: torch.Tensor) -> torch.Tensor:  # M·v per pixel, written out (exports with a dynamic batch)
        rows = [sum(matrix[:, 3 * c + k : 3 * c + k + 1] * v[:, k : k + 1] for k in range(3)) for c in range(3)]
        return torch.cat(rows, dim=1)

    gamma = params[:, :1, None, None]
    z = mix(x * maps[:, :3] + maps[:, 3:6]).clamp(Z_FLOOR, 1.0)
    # z^(γ−1) as exp((γ−1)·log z) (z ≥ Z_FLOOR > 0): onnxruntime's Pow is 0.5 ms at 1080p, s = 8; Exp and Log 0.2 ms
    return gamma * torch.exp((gamma - 1) * torch.log(z)) * mix(maps[:, :3])


def softplus(z: torch.Tensor) -> torch.Tensor:
    """log(1 + e^z) as relu(z) + log(1 + e^−|z|), elementwise, any shape.

    The same function as ``F.softplus`` (within 3e-7): onnxruntime's Softplus kernel does not vectorise (1.1 ms on
    the 3×135×240 mul map of a 1080p frame at s = 8), its Relu, Abs, Exp and Log do (0.2 ms together).
    """
    return F.relu(z) + torch.log1p(torch.exp(-z.abs()))


def frame_noise(x: torch.Tensor, statistic: str = "min") -> tuple[torch.Tensor, torch.Tensor]:
    """(σ, ρ), each N×1×1×1, of N×3×h×w RGB in [0, 1]: the luma's noise σ (8-bit codes) and its channel/luma ratio ρ.

    Immerkær's estimate per tile of a NOISE_TILES grid, on the luma and on each channel. x is the estimator's input,
    the downscaled frame (bilinear without antialiasing: at odd s its pixels are the frame's own, at even s means of
    2×2). Texture raises a tile's figure, so the flattest tile by the luma (``statistic`` "min"; "median": the middle
    two tiles' mean) stands for the frame; the border is replicated so that any size has one. ρ is that tile's
    largest channel σ over its luma σ: sensor noise, independent per channel after demosaicing, is averaged down by
    the Rec.601 luma, ρ ≈ 1 / sqrt(Σ w²) ≈ 1.5; what is the same in every channel (texture, a JPEG's smoothed
    chroma) gives ρ ≈ 1.
    """
    # the operator on the luma and on each channel as one 3-to-4-channel conv (one ONNX Conv)
    weights = torch.cat([torch.tensor(LUMA_WEIGHTS)[None], torch.eye(3)])  # 4×3: luma, R, G, B
    kernel = (weights[:, :, None, None] * torch.from_numpy(NOISE_KERNEL)).to(x)
    response = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel).abs()
    grid = adaptive_avg_pool(response, NOISE_TILES)  # N×4×rows×columns
    # the tiles in a row, N×4×(rows·columns), by slices: a reshape exports with the example's batch of 1 fixed
    tiles = torch.cat([grid[:, :, r] for r in range(NOISE_TILES[0])], dim=2)
    luma = tiles[:, :1]
    if statistic == "min":
        low = high = luma.amin(dim=2, keepdim=True)
    else:
        middle = NOISE_TILES[0] * NOISE_TILES[1] // 2
        low, high = torch.sort(luma, dim=2).values[:, :, middle - 1 : middle + 1].split(1, dim=2)
    # the chosen tiles by a mask, not a gather: elementwise products and sums export with a dynamic batch
    chosen = ((luma >= low) & (luma <= high)).to(x)
    level = (tiles * chosen).sum(dim=2, keepdim=True) / chosen.sum(dim=2, keepdim=True)  # N×4×1
    sigma = math.sqrt(math.pi / 2) / 6 * 255 * level[:, :1, :, None]
    ratio = level[:, 1:].amax(dim=1, keepdim=True) / level[:, :1].clamp_min(1e-12)
    return sigma, ratio[..., None]


def smoothing_weight(
    x: torch.Tensor,
    maps: torch.Tensor,
    params: torch.Tensor,
    noise: tuple[float, float] | None = SMOOTHING_NOISE,
    statistic: str = "min",
    by_gain: tuple[float, float] = SMOOTHING_GAIN,
    sensor: tuple[tuple[float, float], tuple[float, float]] | None = SMOOTHING_SENSOR,
) -> torch.Tensor:
    """N×3×h×w pre-smoothing weight β ∈ [0, SMOOTHING_MAX]: the largest of the ramps on g, on g·σ and on g·σ × ρ's."""
    gain = noise_gain(x, maps, params)
    beta = ramp(gain, *by_gain)
    if noise is not None:
        sigma, ratio = frame_noise(x, statistic)
        amplified = gain * sigma
        beta = torch.maximum(beta, ramp(amplified, *noise))
        if sensor is not None:
            beta = torch.maximum(beta, ramp(amplified, *sensor[0]) * ramp(ratio, *sensor[1]))
    return SMOOTHING_MAX * beta


class ThumbnailHead(nn.Module):
    """Global head: 32×32 area thumbnail → 3 BN convs → pooled features → (bounded globals N×10, FiLM N×2C)."""

    def __init__(self, dim: int = 16, width: int = 32) -> None:
        super().__init__()
        self.features = nn.Sequential(
            AdaptiveAvgPool(THUMBNAIL),
            nn.Conv2d(6, width // 2, 3, padding=1, bias=False),
            nn.BatchNorm2d(width // 2),
            nn.ReLU(),
            nn.Conv2d(width // 2, width, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.globals_head = nn.Linear(width, 11)
        self.film = nn.Linear(width, 2 * dim)
        with torch.no_grad():
            self.globals_head.weight.mul_(0.1)
            self.globals_head.bias.copy_(identity_bias())
            self.film.weight.zero_()
            self.film.bias.zero_()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """N×6×h×w exposure channels → (params N×10 [gamma, M row-major], FiLM N×2·dim [scale, shift])."""
        pooled = self.features(x)
        return bounded_globals(self.globals_head(pooled)), self.film(pooled)


class BoundedIATStudent(IATFamily):
    """llie's IAT student: shared conv, FiLM from a thumbnail global head, BN residual blocks, bounded outputs."""

    spec_name = "iat_student"
    architecture = "llie"

    def __init__(
        self, scale_factor: int | None = None, input_range: str | None = None, dim: int = 16, blocks: int = 1
    ) -> None:
        super().__init__(scale_factor, input_range)
        if self.input_range != "unit":
            raise ValueError(f"llie's iat_student takes [0, 1] input (input_range 'unit'), not {self.input_range!r}")
        self.global_head = ThumbnailHead(dim)
        self.shared_conv = nn.Conv2d(6, dim, 3, padding=1)
        self.mul_blocks = nn.Sequential(*(ResidualBlock(dim) for _ in range(blocks)))
        self.add_blocks = nn.Sequential(*(ResidualBlock(dim) for _ in range(blocks)))
        self.mul_end = nn.Conv2d(dim, 3, 3, padding=1)
        self.add_end = nn.Conv2d(dim, 3, 3, padding=1)
        with torch.no_grad():  # start at mul = 1, add ≈ 0: with M = I, gamma = 1 the untrained student is ~identity
            self.mul_end.bias.fill_(math.log(math.e - 1))
            self.add_end.bias.fill_(-6.0)

    def predict(self, xn: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mul ≥ 0, add ∈ (0, 1), bounded params) for an N×3×h×w input (unit range: xn is x)."""
        channels = exposure_channels(xn)
        params, film = self.global_head(channels)
        scale, shift = film[:, :, None, None].chunk(2, dim=1)
        shared = F.leaky_relu(self.shared_conv(channels), 0.2) * (1 + scale) + shift
        mul = softplus(self.mul_end(self.mul_blocks(shared) + shared))
        add = torch.sigmoid(self.add_end(self.add_blocks(shared) + shared))
        return mul, add, params

    def estimate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(maps N×9×h×w [mul RGB, add RGB, pre-smoothing weight β RGB], params N×10) for N×3×h×w RGB in [0, 1]."""
        maps, params = super().estimate(x)
        return torch.cat([maps, smoothing_weight(x, maps, params)], dim=1), params
