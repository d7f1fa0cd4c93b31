"""Power-law tone curves: fixed gamma, and a gamma chosen from the image's mean luminance."""

from __future__ import annotations

import math

import numpy as np

from llie_core.classical._image import apply_lut, check_image, curve_lut, mean_luminance


def gamma(image: np.ndarray, gamma: float = 0.5) -> np.ndarray:
    """out = max·(x/max)^gamma per channel (gamma < 1 brightens); H×W×3 RGB uint8/uint16, same shape/dtype out."""
    image = check_image(image)
    if not gamma > 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    return apply_lut(image, curve_lut(lambda x: np.power(x, gamma), image.dtype))


# The same curve on every channel: the engine runs it on BGR frames without reordering channels.
gamma.on_bgr = gamma


def adaptive_gamma(
    image: np.ndarray, target: float = 0.5, min_gamma: float = 0.2, max_gamma: float = 1.0
) -> np.ndarray:
    """Gamma chosen so the mean luminance m maps to target (gamma = ln target / ln m), clamped to [min, max].

    H×W×3 RGB uint8/uint16 in, same shape and dtype out. With the default max_gamma = 1 a frame that is
    already bright is left alone rather than darkened.
    """
    image = check_image(image)
    if not 0 < target < 1:
        raise ValueError(f"target must be in (0, 1), got {target}")
    if not 0 < min_gamma <= max_gamma:
        raise ValueError(f"need 0 < min_gamma <= max_gamma, got {min_gamma}, {max_gamma}")
    return gamma(image, gamma=adaptive_gamma_value(mean_luminance(image), target, min_gamma, max_gamma))


def adaptive_gamma_value(mean: float, target: float, min_gamma: float, max_gamma: float) -> float:
    """The exponent that takes a mean luminance (fraction of full scale) to target, clamped."""
    if mean <= 0:  # an all-black frame: the strongest allowed curve (black stays black anyway)
        return min_gamma
    if mean >= 1:
        return max_gamma
    return min(max(math.log(target) / math.log(mean), min_gamma), max_gamma)
