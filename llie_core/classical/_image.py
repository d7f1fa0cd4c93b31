"""Shared plumbing of the classical methods: input checks, dtype ranges, tone-curve lookup tables, luminance."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from llie_core.frames import LUMA_WEIGHTS, max_value

SUPPORTED_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))


def check_image(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Validate an H×W×3 RGB uint8/uint16 image and return it C-contiguous (OpenCV needs that)."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(image).__name__}")
    if image.dtype not in SUPPORTED_DTYPES:
        raise TypeError(f"{name} has dtype {image.dtype}; classical methods take uint8 or uint16 RGB")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{name} must be H×W×3 RGB, got shape {image.shape}")
    if image.size == 0:
        raise ValueError(f"{name} is empty (shape {image.shape})")
    return np.ascontiguousarray(image)


def curve_lut(curve: Callable[[np.ndarray], np.ndarray], dtype: np.dtype) -> np.ndarray:
    """Lookup table (256 or 65536 entries, of dtype) of a tone curve given on [0, 1] -> [0, 1]."""
    top = max_value(dtype)
    x = np.arange(top + 1, dtype=np.float64) / top  # the table is small, so float64 costs nothing here
    return np.clip(np.rint(curve(x) * top), 0, top).astype(dtype)


def apply_lut(image: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Map every code value of an image (any shape) through a table of the image's dtype."""
    if image.dtype == np.uint8:
        return cv2.LUT(image, lut)
    # cv2.LUT only takes 8-bit sources; a 65536-entry gather is the uint16 equivalent.
    return np.take(lut, image)


def to_unit_float(image: np.ndarray) -> np.ndarray:
    """H×W×3 integer image -> float32 in [0, 1]."""
    return np.multiply(image, np.float32(1.0 / max_value(image.dtype)), dtype=np.float32)


def from_unit_float(
    values: np.ndarray, dtype: np.dtype, scale: float = 1.0, shift: float = 0.0, overwrite: bool = False
) -> np.ndarray:
    """Float32 image (any shape) -> integer image of dtype holding round(clip(scale·values + shift, 0, 1) · max).

    overwrite=True reuses values as scratch space, sparing a full-frame copy when the caller is done with it.
    """
    top = max_value(dtype)
    scaled = values if overwrite else values.copy()
    # One multiply-add, one clip: the +0.5 makes the truncating cast round to nearest for non-negative values.
    scaled *= np.float32(scale * top)
    scaled += np.float32(shift * top + 0.5)
    np.clip(scaled, 0, top, out=scaled)
    return scaled.astype(dtype)


def mean_luminance(image: np.ndarray) -> float:
    """Mean Rec.601 luminance of an H×W×3 RGB image, as a fraction of full scale."""
    # Luminance is linear in the channels, so the weighted sum of the channel means is its mean.
    means = cv2.mean(image)[:3]
    return sum(w * m for w, m in zip(LUMA_WEIGHTS, means, strict=True)) / max_value(image.dtype)


def luminance_histogram(image: np.ndarray) -> np.ndarray:
    """Histogram (256 or 65536 bins, float64) of the luma-weighted channel values of an RGB image.

    Bin v holds Σ_c w_c · count_c(v), so for any per-channel curve f the mean output luminance is
    Σ_v hist[v] · f(v) / pixels exactly, without forming the luminance image.
    """
    bins = max_value(image.dtype) + 1
    hist = np.zeros(bins, dtype=np.float64)
    for channel, weight in enumerate(LUMA_WEIGHTS):
        hist += weight * cv2.calcHist([image], [channel], None, [bins], [0, bins]).ravel()
    return hist
