"""Bilinear resizing with exactly torch's sampling rules (``F.interpolate(mode="bilinear")``)."""

from __future__ import annotations

import numpy as np


def _source_taps(n_out: int, n_in: int, align_corners: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower index, upper index, upper weight) along one axis, as torch computes them (no antialias)."""
    # float32 arithmetic on purpose: torch computes scales and source coordinates in float.
    dst = np.arange(n_out, dtype=np.float32)
    if align_corners:
        scale = np.float32((n_in - 1) / (n_out - 1)) if n_out > 1 else np.float32(0)
        src = scale * dst
    else:
        src = np.maximum(np.float32(n_in / n_out) * (dst + np.float32(0.5)) - np.float32(0.5), np.float32(0))
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, (src - lo.astype(np.float32)).astype(np.float32)


def resize_bilinear(image: np.ndarray, size: tuple[int, int], align_corners: bool) -> np.ndarray:
    """Resize an H×W×C float32 image to size (h, w) → h×w×C float32, matching torch bilinear."""
    if image.ndim != 3:
        raise ValueError(f"expected H×W×C, got shape {image.shape}")
    height, width = size
    if height < 1 or width < 1:
        raise ValueError(f"target size must be at least 1×1, got {size}")
    image = image.astype(np.float32, copy=False)
    if (height, width) == image.shape[:2]:
        return image.copy()
    r0, r1, wr = _source_taps(height, image.shape[0], align_corners)
    c0, c1, wc = _source_taps(width, image.shape[1], align_corners)
    wr = wr[:, None, None]
    rows = image[r0] * (1 - wr) + image[r1] * wr
    wc = wc[None, :, None]
    return rows[:, c0] * (1 - wc) + rows[:, c1] * wc
