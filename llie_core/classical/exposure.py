"""Automatic exposure correction: a gain with a highlight shoulder, chosen so mean luminance hits a target.

The tone curve is y = g·x / (1 + (g − 1)·x) on [0, 1]: a linear gain g near black, rolling off smoothly
to 1 at white instead of clipping, monotone for every g > 0 (g < 1 gives the mirror curve, which darkens).
Mean output luminance grows monotonically with g, so g is found by bisection on the luminance histogram
(no pass over the pixels per trial) and then clamped to [min_gain, max_gain]. Unlike a gamma curve, whose
slope at black is infinite, the finite slope g bounds how much shadow noise is amplified.
"""

from __future__ import annotations

import math

import numpy as np

from llie_core.classical._image import apply_lut, check_image, curve_lut, luminance_histogram

_BISECTION_STEPS = 30  # shrinks the log-gain bracket by 2^30: far finer than one code value
_SEARCH_BINS = 4096


def exposure_correction(
    image: np.ndarray, target: float = 0.5, max_gain: float = 16.0, min_gain: float = 1.0
) -> np.ndarray:
    """Gain + shoulder curve bringing mean luminance to target (fraction of full scale); H×W×3 RGB uint8/uint16 in/out.

    With the default min_gain = 1 a frame brighter than target is left as it is; set min_gain < 1 to
    also pull over-exposed frames down.
    """
    image = check_image(image)
    if not 0 < target < 1:
        raise ValueError(f"target must be in (0, 1), got {target}")
    if not 0 < min_gain <= max_gain:
        raise ValueError(f"need 0 < min_gain <= max_gain, got {min_gain}, {max_gain}")
    gain = exposure_gain(luminance_histogram(image), target, min_gain, max_gain)
    return apply_lut(image, curve_lut(lambda x: shoulder_curve(x, gain), image.dtype))


def shoulder_curve(x: np.ndarray, gain: float) -> np.ndarray:
    """y = g·x / (1 + (g − 1)·x): slope g at 0, y(1) = 1; x in [0, 1], any shape."""
    return gain * x / (1.0 + (gain - 1.0) * x)


def exposure_gain(histogram: np.ndarray, target: float, min_gain: float, max_gain: float) -> float:
    """The gain whose curve takes the histogram's mean (luma-weighted code-value histogram) to target, clamped."""
    weights, levels = _histogram_groups(histogram)

    def mean_after(gain: float) -> float:
        return float(weights @ shoulder_curve(levels, gain))

    if mean_after(min_gain) >= target:
        return min_gain
    if mean_after(max_gain) <= target:
        return max_gain
    low, high = math.log(min_gain), math.log(max_gain)
    for _ in range(_BISECTION_STEPS):  # in log gain, where the search interval is better balanced
        middle = 0.5 * (low + high)
        if mean_after(math.exp(middle)) < target:
            low = middle
        else:
            high = middle
    return math.exp(0.5 * (low + high))


def _histogram_groups(histogram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel fractions and mean levels (in [0, 1]) of at most _SEARCH_BINS groups of adjacent code values.

    A group's exact mean level keeps the first moment, so the smooth curve's mean over the groups matches
    the full histogram to second order while a uint16 search costs 16× less.
    """
    group = max(1, histogram.size // _SEARCH_BINS)
    levels = np.arange(histogram.size, dtype=np.float64) / (histogram.size - 1)  # one bin per code value
    counts = histogram.reshape(-1, group).sum(axis=1)
    moments = (histogram * levels).reshape(-1, group).sum(axis=1)
    occupied = counts > 0
    return counts[occupied] / counts.sum(), moments[occupied] / counts[occupied]
