"""Retinex: reflectance as log(image) − log(Gaussian surround), single-scale (SSR) and multi-scale (MSR)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from llie_core.classical._image import check_image, from_unit_float, to_unit_float

# Keep the surround's sigma at least this many pixels at the working resolution so the kernel stays well sampled.
_MIN_WORKING_SIGMA = 4.0
# Added before the log so black stays finite. It is one 8-bit code value for every dtype: near-black pixels
# dominate the log range, so an offset of one uint16 code value would stretch the same frame differently.
_LOG_OFFSET = np.float32(1.0 / 255.0)
# Percentiles are estimated on at most about this many samples; a strided subset is plenty for a 1 % tail.
_PERCENTILE_SAMPLES = 250_000


def ssr(image: np.ndarray, sigma: float = 80.0, low_percent: float = 1.0, high_percent: float = 99.0) -> np.ndarray:
    """Single-scale Retinex, stretched so low/high percentiles hit 0/full scale; H×W×3 RGB uint8/uint16 in and out."""
    return msr(image, sigmas=(sigma,), low_percent=low_percent, high_percent=high_percent)


def msr(
    image: np.ndarray,
    sigmas: Sequence[float] = (15.0, 80.0, 250.0),
    low_percent: float = 1.0,
    high_percent: float = 99.0,
) -> np.ndarray:
    """Multi-scale Retinex (equal weights over sigmas), stretched to full range; H×W×3 RGB uint8/uint16 in/out."""
    image = check_image(image)
    sigmas = tuple(float(s) for s in sigmas)
    if not sigmas or min(sigmas) <= 0:
        raise ValueError(f"sigmas must be a non-empty list of positive numbers, got {sigmas}")
    if not 0 <= low_percent < high_percent <= 100:
        raise ValueError(f"need 0 <= low_percent < high_percent <= 100, got {low_percent}, {high_percent}")
    linear = to_unit_float(image)
    linear += _LOG_OFFSET
    # mean_k(log I − log S_k) = log I − mean_k(log S_k): one log of the image, one per surround.
    log_surrounds = np.zeros_like(linear)
    for sigma in sigmas:
        surround = gaussian_surround(linear, sigma)
        log_surrounds += np.log(surround, out=surround)
    log_surrounds *= np.float32(1.0 / len(sigmas))
    reflectance = np.log(linear, out=linear)
    reflectance -= log_surrounds
    return _stretch(reflectance, image, low_percent, high_percent)


def gaussian_surround(values: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of an H×W×C float32 image, computed on a downscaled copy when sigma is large."""
    height, width = values.shape[:2]
    # A surround of sigma >> 1 px has no detail finer than sigma, so blurring a copy shrunk by ~sigma/4
    # and scaling it back is indistinguishable from the full-size blur and far cheaper (sigma=250 at
    # full size would need a 2001-tap kernel).
    factor = max(1, int(sigma // _MIN_WORKING_SIGMA))
    if factor == 1:
        return cv2.GaussianBlur(values, (0, 0), sigmaX=sigma, sigmaY=sigma)
    small_w, small_h = math.ceil(width / factor), math.ceil(height / factor)
    small = cv2.resize(values, (small_w, small_h), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=sigma * small_w / width, sigmaY=sigma * small_h / height)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _stretch(reflectance: np.ndarray, image: np.ndarray, low_percent: float, high_percent: float) -> np.ndarray:
    """Map the low/high percentiles of an H×W×3 float32 reflectance (overwritten) to 0/full scale in image's dtype."""
    # One stretch for all three channels: stretching each channel on its own would add a grey-world
    # white balance on top of Retinex and tint scenes dominated by one colour.
    step = max(1, math.isqrt(reflectance.size // _PERCENTILE_SAMPLES))
    low, high = np.percentile(reflectance[::step, ::step], (low_percent, high_percent))
    if high - low < 1e-6:  # a flat reflectance (e.g. a constant frame) has no contrast to stretch
        return image.copy()
    scale = 1.0 / (high - low)
    return from_unit_float(reflectance, image.dtype, scale=scale, shift=-low * scale, overwrite=True)
