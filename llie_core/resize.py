"""Bilinear resizing with exactly torch's sampling rules (``F.interpolate(mode="bilinear")``)."""

from __future__ import annotations

import numpy as np


def source_taps(n_out: int, n_in: int, align_corners: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    """Resize an H×W×C image (any numeric dtype) to size (h, w) → h×w×C float32, matching torch bilinear.

    Rows are gathered before any float conversion, so downscaling a large integer frame is cheap.
    """
    if image.ndim != 3:
        raise ValueError(f"expected H×W×C, got shape {image.shape}")
    height, width = size
    if height < 1 or width < 1:
        raise ValueError(f"target size must be at least 1×1, got {size}")
    if (height, width) == image.shape[:2]:
        return image.astype(np.float32)
    r0, r1, wr = source_taps(height, image.shape[0], align_corners)
    c0, c1, wc = source_taps(width, image.shape[1], align_corners)
    wr = wr[:, None, None]
    rows = image[r0].astype(np.float32) * (1 - wr) + image[r1].astype(np.float32) * wr
    wc = wc[None, :, None]
    return rows[:, c0] * (1 - wc) + rows[:, c1] * wc
