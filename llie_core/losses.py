"""Zero-reference losses of the Zero-DCE family and SSIM, as in the published training code.

The four task losses follow Li-Chongyi/Zero-DCE ``Myloss.py`` (also used unchanged by Zero-DCE++):
spatial consistency (``L_spa``), exposure control (``L_exp``), colour constancy (``L_color``) and
illumination smoothness (``L_TV``); SGZ's spatial consistency adds the 4 diagonal neighbours, weighted 0.5.
Each function returns a scalar tensor averaged over the batch the way the official training script
averages it (``torch.mean`` of the per-sample map). Images are N×3×H×W RGB in [0, 1]; curve maps are N×C×H×W.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Official weights: loss = w_tv·TV(A) + w_spa·spa + w_col·col + w_exp·exp (Zero-DCE: TV 200; Zero-DCE++: 1600).
ZERO_DCE_WEIGHTS = {"tv": 200.0, "spa": 1.0, "col": 5.0, "exp": 10.0}
ZERO_DCE_PP_WEIGHTS = {"tv": 1600.0, "spa": 1.0, "col": 5.0, "exp": 10.0}
SPA_NEIGHBOURS = (4, 8)

# 4-neighbour difference kernels of L_spa: left, right, up, down (centre minus neighbour).
_SPA_KERNELS = torch.tensor(
    [
        [[0, 0, 0], [-1, 1, 0], [0, 0, 0]],
        [[0, 0, 0], [0, 1, -1], [0, 0, 0]],
        [[0, -1, 0], [0, 1, 0], [0, 0, 0]],
        [[0, 0, 0], [0, 1, 0], [0, -1, 0]],
    ],
    dtype=torch.float32,
).unsqueeze(1)
# SGZ's 8-neighbour L_spa adds the diagonals (up-left, up-right, down-left, down-right) at weight 0.5.
_SPA_DIAGONAL_KERNELS = torch.tensor(
    [
        [[-1, 0, 0], [0, 1, 0], [0, 0, 0]],
        [[0, 0, -1], [0, 1, 0], [0, 0, 0]],
        [[0, 0, 0], [0, 1, 0], [-1, 0, 0]],
        [[0, 0, 0], [0, 1, 0], [0, 0, -1]],
    ],
    dtype=torch.float32,
).unsqueeze(1)
_SPA_DIAGONAL_WEIGHT = 0.5


def _check_image(name: str, x: torch.Tensor) -> None:
    if x.ndim != 4:
        raise ValueError(f"{name} must be an N×C×H×W tensor, got shape {tuple(x.shape)}")


def spatial_consistency_loss(
    enhanced: torch.Tensor, original: torch.Tensor, pool: int = 4, neighbours: int = 4
) -> torch.Tensor:
    """L_spa: keep the neighbour contrasts of pool×pool region means (N×3×H×W each → scalar).

    As in the official code, the grey (channel-mean) images are average-pooled, differenced with
    each neighbour (zero padding at the border) and the squared change of those differences summed
    over the directions, then averaged over regions and batch. ``neighbours`` 4 is Zero-DCE's
    (left, right, up, down); 8 is SGZ's, adding the four diagonals weighted 0.5. 0 when enhanced == original.
    """
    _check_image("enhanced", enhanced)
    _check_image("original", original)
    if enhanced.shape != original.shape:
        raise ValueError(f"enhanced {tuple(enhanced.shape)} and original {tuple(original.shape)} differ in shape")
    if neighbours not in SPA_NEIGHBOURS:
        raise ValueError(f"neighbours must be one of {SPA_NEIGHBOURS}, got {neighbours!r}")
    org = F.avg_pool2d(original.mean(1, keepdim=True), pool)
    enh = F.avg_pool2d(enhanced.mean(1, keepdim=True), pool)
    kernels, weights = _SPA_KERNELS, [1.0] * 4
    if neighbours == 8:
        kernels = torch.cat([_SPA_KERNELS, _SPA_DIAGONAL_KERNELS])
        weights += [_SPA_DIAGONAL_WEIGHT] * 4
    kernels = kernels.to(device=enhanced.device, dtype=enhanced.dtype)
    w = torch.tensor(weights, device=enhanced.device, dtype=enhanced.dtype).view(1, -1, 1, 1)
    d_org = F.conv2d(org, kernels, padding=1)
    d_enh = F.conv2d(enh, kernels, padding=1)
    return (w * (d_org - d_enh).pow(2)).sum(1).mean()


def exposure_loss(enhanced: torch.Tensor, patch: int = 16, target: float = 0.6) -> torch.Tensor:
    """L_exp: mean squared distance of patch×patch grey-level means to the target exposure E.

    N×3×H×W → scalar; 0 when every patch mean equals ``target``.
    """
    _check_image("enhanced", enhanced)
    means = F.avg_pool2d(enhanced.mean(1, keepdim=True), patch)
    return (means - target).pow(2).mean()


def multi_region_exposure_loss(
    enhanced: torch.Tensor, patches: tuple[int, ...] = (8, 16, 32), target: float = 0.6
) -> torch.Tensor:
    """Exposure loss averaged over several patch sizes (TinyDCE stage 1): N×3×H×W → scalar."""
    return torch.stack([exposure_loss(enhanced, p, target) for p in patches]).mean()


def color_constancy_loss(enhanced: torch.Tensor) -> torch.Tensor:
    """L_color: grey-world loss sqrt(Drg² + Drb² + Dgb²) with D = squared channel-mean differences.

    N×3×H×W → scalar (batch mean); 0 for a grey image (equal channel means).
    """
    _check_image("enhanced", enhanced)
    mr, mg, mb = torch.split(enhanced.mean((2, 3), keepdim=True), 1, dim=1)
    d_rg, d_rb, d_gb = (mr - mg).pow(2), (mr - mb).pow(2), (mb - mg).pow(2)
    k2 = d_rg.pow(2) + d_rb.pow(2) + d_gb.pow(2)
    # sqrt has an infinite gradient at 0 (a perfectly grey image): clamp inside, exact 0 outside.
    return torch.where(k2 > 0, k2.clamp_min(1e-30).sqrt(), torch.zeros_like(k2)).mean()


def illumination_smoothness_loss(curves: torch.Tensor) -> torch.Tensor:
    """L_TV of the curve maps: 2·(Σ vertical² / count_h + Σ horizontal² / count_w) / N (official form).

    N×C×H×W → scalar; 0 for a constant map. Counts exclude channels, as in the published code.
    """
    _check_image("curves", curves)
    n, _, h, w = curves.shape
    count_h = max((h - 1) * w, 1)
    count_w = max(h * (w - 1), 1)
    h_tv = (curves[:, :, 1:, :] - curves[:, :, :-1, :]).pow(2).sum()
    w_tv = (curves[:, :, :, 1:] - curves[:, :, :, :-1]).pow(2).sum()
    return 2 * (h_tv / count_h + w_tv / count_w) / n


def zero_reference_loss(
    enhanced: torch.Tensor,
    original: torch.Tensor,
    curves: torch.Tensor,
    weights: dict[str, float] | None = None,
    exposure_patch: int = 16,
    exposure_target: float = 0.6,
    spa_pool: int = 4,
    spa_neighbours: int = 4,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted sum of the four zero-reference losses and its parts (floats, already weighted).

    Weights default to Zero-DCE++'s {tv 1600, spa 1, col 5, exp 10}; ``spa_neighbours`` 8 is SGZ's L_spa.
    """
    w = dict(ZERO_DCE_PP_WEIGHTS if weights is None else weights)
    parts = {
        "tv": w["tv"] * illumination_smoothness_loss(curves),
        "spa": w["spa"] * spatial_consistency_loss(enhanced, original, spa_pool, spa_neighbours),
        "col": w["col"] * color_constancy_loss(enhanced),
        "exp": w["exp"] * exposure_loss(enhanced, exposure_patch, exposure_target),
    }
    total = sum(parts.values())
    return total, {k: float(v.detach()) for k, v in parts.items()}


def gaussian_1d(size: int, sigma: float, like: torch.Tensor) -> torch.Tensor:
    """Normalised 1-D Gaussian of ``size`` taps (dtype and device of ``like``)."""
    coords = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(
    x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5, data_range: float = 1.0
) -> torch.Tensor:
    """Mean SSIM (Wang et al. 2004; 11×11 Gaussian σ=1.5, zero-padded as pytorch-ssim) of N×C×H×W images.

    Returns a scalar tensor; 1 for identical images. Differentiable, for (1 − SSIM) losses.
    """
    _check_image("x", x)
    if x.shape != y.shape:
        raise ValueError(f"x {tuple(x.shape)} and y {tuple(y.shape)} differ in shape")
    c = x.shape[1]
    g = gaussian_1d(window, sigma, x)
    # The 2-D Gaussian is separable: a column pass then a row pass equals the zero-padded 2-D filter.
    col = g.view(1, 1, window, 1).expand(c, 1, window, 1)
    row = g.view(1, 1, 1, window).expand(c, 1, 1, window)
    pad = window // 2

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, col, padding=(pad, 0), groups=c), row, padding=(0, pad), groups=c)

    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x.pow(2)
    syy = blur(y * y) - mu_y.pow(2)
    sxy = blur(x * y) - mu_x * mu_y
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x.pow(2) + mu_y.pow(2) + c1) * (sxx + syy + c2))
    return ssim_map.mean()
