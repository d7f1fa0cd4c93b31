"""Light-enhancement curves on numpy arrays: LE(x; a) = x + a·(x² − x), applied iteratively."""

from __future__ import annotations

import numpy as np


def check_scale_factor(value: object) -> int:
    """A network's scale factor: an integer >= 1 (ValueError naming the value otherwise)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"scale_factor must be an integer >= 1, got {value!r}")
    return value


def estimation_size(height: int, width: int, scale_factor: int) -> tuple[int, int]:
    """Size (h, w) at which curves are estimated for an H×W frame: ⌈H/s⌉×⌈W/s⌉."""
    # (n + s - 1) // s rather than -(-n // s): exported to ONNX, Div truncates, so operands stay non-negative.
    return (height + scale_factor - 1) // scale_factor, (width + scale_factor - 1) // scale_factor


def frame_scale_factor(height: int, width: int, scale_factor: int, max_side: int | None = None) -> int:
    """The scale factor for an H×W frame: ``scale_factor``, raised until the estimate's longer side is ≤ ``max_side``.

    max(s, ⌈max(H, W)/max_side⌉): with max_side 256 a 512-pixel image is estimated at s = 2 and 1920×1080
    at s = 8, so small images keep detail and large ones stay fast. ``max_side`` None: ``scale_factor`` alone.
    """
    if max_side is None:
        return scale_factor
    return max(scale_factor, (max(height, width) + max_side - 1) // max_side)


def apply_le_curves(image: np.ndarray, curves: np.ndarray, iterations: int) -> np.ndarray:
    """Apply ``iterations`` LE steps to an H×W×3 float32 image in [0, 1].

    curves: H×W×3 (one map reused every step) or H×W×(3·iterations) (one map per step).
    Returns H×W×3 float32.
    """
    if curves.shape[:2] != image.shape[:2]:
        raise ValueError(f"curves {curves.shape} and image {image.shape} differ in size")
    n_maps = curves.shape[2] // 3
    if curves.shape[2] % 3 or n_maps not in (1, iterations):
        raise ValueError(f"curves have {curves.shape[2]} channels; expected 3 or {3 * iterations}")
    x = image.astype(np.float32, copy=True)
    tmp = np.empty_like(x)
    for i in range(iterations):
        a = curves[:, :, 3 * i : 3 * i + 3] if n_maps > 1 else curves
        # x += a * (x*x - x), in place to keep one temporary per step.
        np.multiply(x, x, out=tmp)
        tmp -= x
        tmp *= a
        x += tmp
    return x
