"""Denoising filters for noisy dark frames, as classical methods (OpenCV): a Gaussian blur and a bilateral filter.

Under heavy sensor noise a plain blur helps a detector more than any brightening curve (issue 12), so the
filters are registered beside the enhancers: alone, or chained before one (``bilateral+tiny_dce`` in
``llie eval detect``). Both work on each channel the same way, so channel order does not matter.
"""

from __future__ import annotations

import cv2
import numpy as np

from llie_core.classical._image import check_image
from llie_core.frames import max_value

# Methods that only filter: they keep the mean brightness.
DENOISERS = ("gaussian_blur", "bilateral")


def gaussian_blur(image: np.ndarray, ksize: int = 5, sigma: float = 0.0) -> np.ndarray:
    """Gaussian blur with a ksize×ksize kernel (sigma 0: OpenCV's 0.3·((ksize−1)/2 − 1) + 0.8, 1.1 for 5).

    H×W×3 RGB uint8/uint16 in, same shape and dtype out.
    """
    image = check_image(image)
    if ksize < 1 or ksize % 2 == 0:
        raise ValueError(f"ksize must be a positive odd integer, got {ksize}")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    return cv2.GaussianBlur(image, (int(ksize), int(ksize)), float(sigma), borderType=cv2.BORDER_REFLECT_101)


def bilateral(image: np.ndarray, diameter: int = 5, sigma_color: float = 40.0, sigma_space: float = 2.0) -> np.ndarray:
    """Bilateral filter: neighbours within ``diameter`` weighted by distance and by colour difference.

    ``sigma_color`` is in 8-bit code values whatever the dtype (scaled for uint16), ``sigma_space`` in
    pixels. H×W×3 RGB uint8/uint16 in, same shape and dtype out.
    """
    image = check_image(image)
    if diameter < 1:
        raise ValueError(f"diameter must be >= 1, got {diameter}")
    if not (sigma_color > 0 and sigma_space > 0):
        raise ValueError(f"sigma_color and sigma_space must be > 0, got {sigma_color}, {sigma_space}")
    if image.dtype == np.uint8:
        return cv2.bilateralFilter(image, int(diameter), float(sigma_color), float(sigma_space))
    # OpenCV's bilateral filter takes 8-bit or float images only.
    scale = max_value(image.dtype) / 255.0
    out = cv2.bilateralFilter(image.astype(np.float32), int(diameter), float(sigma_color * scale), float(sigma_space))
    return np.clip(np.rint(out), 0, max_value(image.dtype)).astype(image.dtype)


gaussian_blur.on_bgr = gaussian_blur
bilateral.on_bgr = bilateral
