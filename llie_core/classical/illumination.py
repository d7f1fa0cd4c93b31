"""LIME (Guo et al. 2017): estimate the illumination map, refine it structure-aware, divide it out.

Refinement solves LIME's sped-up problem (paper Eq. 19 with weighting strategy III):
    (I + Σ_{d∈{h,v}} D_dᵀ diag(w_d) D_d) t = t̂,  w_d = α / ((|G_σ ∗ ∇_d t̂| + ε) (|∇_d t̂| + ε)),
where t̂ is the max over RGB. It is solved (to a 1 % relative residual) by Jacobi-preconditioned conjugate
gradients on a copy of t̂ shrunk to `max_side` pixels, matrix-free in numpy so the runtime needs no SciPy.
The smooth result is brought back to full size by guided-filter upsampling (He & Sun 2015) with the
full-size t̂ as guide, which restores the strong edges that plain interpolation would smear into halos.
The optional BM3D denoising step of the paper is left out.
"""

from __future__ import annotations

import cv2
import numpy as np

from llie_core.classical._image import check_image, from_unit_float, to_unit_float

_EPS = 1e-3  # ε of the paper: keeps the weights finite on flat areas
_T_FLOOR = 1e-3  # illumination floor before dividing, so black pixels stay finite
_CG_TOLERANCE = 1e-2  # relative residual; on DICM frames the gain is then within 0.3 % of a direct sparse solve
_CG_MAX_ITERATIONS = 3000
_GUIDE_RADIUS = 2  # in pixels of the shrunk map
_GUIDE_EPS = 1e-4


def lime(
    image: np.ndarray, gamma: float = 0.8, alpha: float = 0.15, sigma: float = 2.0, max_side: int = 256
) -> np.ndarray:
    """LIME enhancement: out = image / refined_illumination^gamma; H×W×3 RGB uint8/uint16 in, same out."""
    image = check_image(image)
    if not gamma > 0 or not alpha >= 0 or not sigma > 0:
        raise ValueError(f"need gamma > 0, alpha >= 0, sigma > 0; got {gamma}, {alpha}, {sigma}")
    if int(max_side) != max_side or max_side < 2:
        raise ValueError(f"max_side must be an integer >= 2, got {max_side}")
    unit = to_unit_float(image)
    t_hat = unit.max(axis=2)
    illumination = refine_illumination(t_hat, alpha=alpha, sigma=sigma, max_side=int(max_side))
    gain = np.power(np.maximum(illumination, np.float32(_T_FLOOR)), np.float32(-gamma))
    return from_unit_float(unit * gain[..., None], image.dtype, overwrite=True)


def refine_illumination(t_hat: np.ndarray, alpha: float, sigma: float, max_side: int) -> np.ndarray:
    """Structure-aware smoothing of an H×W float32 illumination map, solved at most max_side pixels long."""
    height, width = t_hat.shape
    scale = min(1.0, max_side / max(height, width))
    if scale == 1.0:
        return _solve(t_hat, *_smoothness_weights(t_hat, alpha, sigma))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(t_hat, size, interpolation=cv2.INTER_AREA)
    refined = _solve(small, *_smoothness_weights(small, alpha, sigma))
    return _guided_upsample(refined, small, t_hat)


def _smoothness_weights(t_hat: np.ndarray, alpha: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """LIME strategy-III weights on horizontal (H×(W−1)) and vertical ((H−1)×W) neighbour pairs."""
    weights = []
    for axis in (1, 0):
        grad = np.diff(t_hat, axis=axis)
        # Texture's gradients alternate in sign and cancel in the Gaussian sum, giving large weights that
        # smooth it away; a consistent edge keeps a large sum, hence a small weight, and survives.
        smoothed = cv2.GaussianBlur(grad, (0, 0), sigma) if grad.size else grad
        weights.append(np.float32(alpha) / ((np.abs(smoothed) + _EPS) * (np.abs(grad) + _EPS)))
    return weights[0], weights[1]


def _apply_system(t: np.ndarray, w_h: np.ndarray, w_v: np.ndarray) -> np.ndarray:
    """(I + D_hᵀ W_h D_h + D_vᵀ W_v D_v) t for an H×W map, without forming the matrix."""
    out = t.copy()
    flux = w_h * (t[:, 1:] - t[:, :-1])
    out[:, 1:] += flux
    out[:, :-1] -= flux
    flux = w_v * (t[1:] - t[:-1])
    out[1:] += flux
    out[:-1] -= flux
    return out


def _solve(t_hat: np.ndarray, w_h: np.ndarray, w_v: np.ndarray) -> np.ndarray:
    """Jacobi-preconditioned conjugate gradients for the LIME system, starting from t̂; H×W -> H×W."""
    diagonal = np.ones_like(t_hat)
    diagonal[:, 1:] += w_h
    diagonal[:, :-1] += w_h
    diagonal[1:] += w_v
    diagonal[:-1] += w_v
    t = t_hat.copy()
    residual = t_hat - _apply_system(t, w_h, w_v)
    stop = _CG_TOLERANCE * float(np.linalg.norm(t_hat))
    z = residual / diagonal
    direction = z.copy()
    rz = float(np.vdot(residual, z))
    for _ in range(_CG_MAX_ITERATIONS):
        if float(np.linalg.norm(residual)) <= stop:
            break
        applied = _apply_system(direction, w_h, w_v)
        step = rz / float(np.vdot(direction, applied))
        t += np.float32(step) * direction
        residual -= np.float32(step) * applied
        z = residual / diagonal
        rz_next = float(np.vdot(residual, z))
        direction = z + np.float32(rz_next / rz) * direction
        rz = rz_next
    return t


def _guided_upsample(refined: np.ndarray, guide_small: np.ndarray, guide: np.ndarray) -> np.ndarray:
    """Fast guided-filter upsampling: fit refined ≈ a·guide on the small map, apply a, b at full size."""
    window = (2 * _GUIDE_RADIUS + 1, 2 * _GUIDE_RADIUS + 1)

    def mean(values: np.ndarray) -> np.ndarray:
        return cv2.blur(values, window, borderType=cv2.BORDER_REFLECT)

    mean_guide, mean_refined = mean(guide_small), mean(refined)
    covariance = mean(guide_small * refined) - mean_guide * mean_refined
    variance = mean(guide_small * guide_small) - mean_guide * mean_guide
    slope = covariance / (variance + np.float32(_GUIDE_EPS))
    intercept = mean_refined - slope * mean_guide
    size = (guide.shape[1], guide.shape[0])
    slope = cv2.resize(mean(slope), size, interpolation=cv2.INTER_LINEAR)
    intercept = cv2.resize(mean(intercept), size, interpolation=cv2.INTER_LINEAR)
    return slope * guide + intercept
