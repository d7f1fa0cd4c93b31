"""NIQE (Mittal, Soundararajan, Bovik, "Making a completely blind image quality analyzer", 2013).

A numpy/scipy port of the authors' MATLAB release (LIVE ``niqe_release``: ``computequality.m``,
``computefeature.m``, ``estimateaggdparam.m``). Lower is better. The image is converted to grey as
MATLAB's ``rgb2gray`` does on uint8 (rounded), cropped to whole 96×96 blocks, and at two scales
(the second by MATLAB-bicubic ``imresize(·, 0.5)``) the MSCN coefficients (7×7 Gaussian, σ = 7/6,
replicate border) of every block give 18 AGGD features. A multivariate Gaussian fitted to all
blocks' 36 features is compared with the pristine model:
quality = sqrt((μp − μd)ᵀ pinv((Σp + Σd)/2) (μp − μd)).

Pristine model: ``niqe_modelparameters.mat`` (``mu_prisparam`` 1×36, ``cov_prisparam`` 36×36), the
parameters of the LIVE NIQE release (UT Austin), as redistributed in gzy7/FCE-Net @9e0daf2
(``NIQE.mat``); read from ../shared/metrics, never downloaded or copied into the repository.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.ndimage import correlate
from scipy.special import gamma

from llie_core.metrics.imresize import imresize
from llie_core.metrics.quality import grey

BLOCK = 96
_GAM = np.arange(0.2, 10.0005, 0.001)  # MATLAB 0.2:0.001:10
_R_GAM = gamma(2 / _GAM) ** 2 / (gamma(1 / _GAM) * gamma(3 / _GAM))


def default_model_path() -> Path:
    """../shared/metrics/niqe_modelparameters.mat (via llie_core.registry.shared_dir)."""
    from llie_core.registry import shared_dir

    return shared_dir() / "metrics" / "niqe_modelparameters.mat"


@lru_cache(maxsize=4)
def load_pristine_model(path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(mu 36, cov 36×36) of the pristine model in a MATLAB .mat file; error naming the file if absent."""
    from scipy.io import loadmat

    path = Path(path) if path is not None else default_model_path()
    if not path.is_file():
        raise FileNotFoundError(f"NIQE pristine model {path} not found (set LLIE_SHARED_DIR or pass model_path)")
    mat = loadmat(str(path))
    try:
        mu = np.asarray(mat["mu_prisparam"], dtype=np.float64).reshape(36)
        cov = np.asarray(mat["cov_prisparam"], dtype=np.float64).reshape(36, 36)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{path}: expected mu_prisparam 1×36 and cov_prisparam 36×36 ({exc})") from None
    return mu, cov


def _gaussian_window() -> np.ndarray:
    # fspecial('gaussian', 7, 7/6), normalised.
    r = np.arange(7) - 3
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * (7 / 6) ** 2))
    return g / g.sum()


def estimate_aggd(vec: np.ndarray) -> tuple[float, float, float]:
    """(alpha, beta_left, beta_right) of an asymmetric generalised Gaussian, by moment matching (1-D array)."""
    left = vec[vec < 0]
    right = vec[vec > 0]
    left_std = np.sqrt(np.mean(left**2)) if left.size else 0.0
    right_std = np.sqrt(np.mean(right**2)) if right.size else 0.0
    gamma_hat = left_std / right_std if right_std > 0 else np.inf
    mean_sq = np.mean(vec**2)
    r_hat = np.mean(np.abs(vec)) ** 2 / mean_sq if mean_sq > 0 else np.nan
    r_hat_norm = r_hat * (gamma_hat**3 + 1) * (gamma_hat + 1) / (gamma_hat**2 + 1) ** 2
    alpha = float(_GAM[np.argmin((_R_GAM - r_hat_norm) ** 2)]) if np.isfinite(r_hat_norm) else np.nan
    k = np.sqrt(gamma(1 / alpha) / gamma(3 / alpha)) if np.isfinite(alpha) else np.nan
    return alpha, float(left_std * k), float(right_std * k)


def block_features(block: np.ndarray) -> np.ndarray:
    """The 18 NIQE features of one block of MSCN coefficients (computefeature.m)."""
    alpha, bl, br = estimate_aggd(block.ravel())
    feat = [alpha, (bl + br) / 2]
    for shift in ((0, 1), (1, 0), (1, 1), (1, -1)):
        pair = (block * np.roll(block, shift, axis=(0, 1))).ravel()  # MATLAB circshift
        alpha, bl, br = estimate_aggd(pair)
        mean = (br - bl) * gamma(2 / alpha) / gamma(1 / alpha)
        feat += [alpha, mean, bl, br]
    return np.array(feat, dtype=np.float64)


def niqe_features(image: np.ndarray) -> np.ndarray:
    """Per-block 36-feature matrix (blocks × 36) of an H×W×3 RGB uint8 (or H×W grey) image."""
    img = np.asarray(image)
    g = grey(img) if img.ndim == 3 else img.astype(np.float64)
    rows, cols = g.shape[0] // BLOCK, g.shape[1] // BLOCK
    if rows * cols < 2:
        raise ValueError(f"image {img.shape[:2]} too small for NIQE: needs at least two {BLOCK}×{BLOCK} blocks")
    g = g[: rows * BLOCK, : cols * BLOCK]
    window = _gaussian_window()
    feats = []
    for scale in (1, 2):
        mu = correlate(g, window, mode="nearest")
        sigma = np.sqrt(np.abs(correlate(g * g, window, mode="nearest") - mu * mu))
        mscn = (g - mu) / (sigma + 1)
        size = BLOCK // scale
        # blkproc walks blocks column by column; the order does not change the mean or covariance.
        per_block = [
            block_features(mscn[r * size : (r + 1) * size, c * size : (c + 1) * size])
            for c in range(cols)
            for r in range(rows)
        ]
        feats.append(np.stack(per_block))
        g = imresize(g, scale=0.5)
    return np.concatenate(feats, axis=1)


def niqe(image: np.ndarray, model_path: str | Path | None = None) -> float:
    """NIQE score of an H×W×3 RGB uint8 image (lower = more natural); deterministic."""
    mu_p, cov_p = load_pristine_model(None if model_path is None else str(model_path))
    feats = niqe_features(image)
    feats = feats[~np.isnan(feats).any(axis=1)]  # nanmean/nancov: drop blocks with undefined features
    if feats.shape[0] < 2:
        raise ValueError("NIQE: fewer than two blocks with defined features (flat image?)")
    mu_d = feats.mean(axis=0)
    cov_d = np.cov(feats, rowvar=False)
    diff = mu_p - mu_d
    return float(np.sqrt(diff @ np.linalg.pinv((cov_p + cov_d) / 2) @ diff))
