"""Denoising for noisy dark frames, as classical methods (OpenCV): Gaussian blur, bilateral filter, adaptive denoise.

Under heavy sensor noise a plain blur helps a detector more than any brightening curve (issue 12), so the
filters are registered beside the enhancers: alone, or chained before one (``bilateral+tiny_dce`` in
``llie eval detect``). ``adaptive_denoise`` sets its strength from a per-frame noise estimate (Immerkær 1996,
on a grid of tiles so it costs well under a millisecond at 1080p): chroma smoothed at half resolution, luma
by a bilateral filter, and a mild gamma only on frames with little noise, where brightening does not amplify
noise into the detector's input. Its constants were chosen on the training part of highway_dev.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from llie_core.classical._image import apply_lut, check_image, curve_lut
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

# Immerkær's Laplacian difference: zero on any locally linear image, so mostly noise remains.
NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)  # Immerkær 1996: blind to planes and ramps


def noise_sigma(image: np.ndarray, tiles: int = 4, tile_size: int = 96, bgr: bool = False) -> float:
    """Std of white Gaussian noise in the luma of an H×W×3 RGB (or BGR) uint8/uint16 image, in 8-bit code values.

    Immerkær 1996, "Fast noise variance estimation": σ = √(π/2)·mean|I ∗ N|/6 over a tiles×tiles grid of
    tile_size² patches (the whole frame if smaller). Texture raises the estimate a little (about 0.5 on
    clean road images, 1.5 at 4,000 e⁻ and 6.5 at 400 e⁻ after ÷16).
    """
    image = check_image(image)
    h, w = image.shape[:2]
    size = min(tile_size, h, w)
    if size < 3:
        raise ValueError(f"image of shape {image.shape} is too small to estimate noise (needs 3×3)")
    ys = [(h - size) * ty // max(1, tiles - 1) for ty in range(tiles)]
    xs = [(w - size) * tx // max(1, tiles - 1) for tx in range(tiles)]
    # The tiles stacked in one column, so that each OpenCV call runs once (0.32 -> 0.25 ms at 1080p); the
    # rows where two tiles meet are left out, as every tile's border is.
    stack = np.concatenate([image[y : y + size, x : x + size] for y in ys for x in xs])
    grey = cv2.cvtColor(stack, cv2.COLOR_BGR2GRAY if bgr else cv2.COLOR_RGB2GRAY).astype(np.float32)
    response = cv2.filter2D(grey, -1, NOISE_KERNEL).reshape(-1, size, size)[:, 1:-1, 1:-1]
    total = sum(float(tile) for tile in np.abs(response).sum(axis=(1, 2)))  # tile by tile, in float32 as before
    return math.sqrt(math.pi / 2) * total / response.size / 6.0 * 255.0 / max_value(image.dtype)


def adaptive_denoise(image: np.ndarray, strength: float = 1.0, gamma: float = 0.8) -> np.ndarray:
    """Denoise by the frame's own noise level; brighten with ``gamma`` only when it is low.

    With σ = noise_sigma(image): chroma gets a Gaussian of σ_c = strength·min(4, 1 + σ/2) at half
    resolution, luma a 5-pixel bilateral filter of colour σ strength·max(25, 6σ) (8-bit codes); then
    out = max·(x/max)^g per channel, g going from ``gamma`` (σ ≤ 2) to 1 (σ ≥ 4). H×W×3 RGB uint8/uint16 in,
    same shape and dtype out.
    """
    return _adaptive_denoise(image, strength, gamma, bgr=False)


def _adaptive_denoise(image: np.ndarray, strength: float, gamma: float, bgr: bool) -> np.ndarray:
    image = check_image(image)
    if not strength >= 0:
        raise ValueError(f"strength must be >= 0, got {strength}")
    if not 0 < gamma <= 1:
        raise ValueError(f"gamma must be in (0, 1], got {gamma}")
    sigma = noise_sigma(image, bgr=bgr)
    out = _denoise_ycc(image, sigma, strength, bgr) if strength > 0 else image
    g = gamma + (1.0 - gamma) * min(1.0, max(0.0, (sigma - 2.0) / 2.0))
    return out if g >= 0.999 else apply_lut(out, curve_lut(lambda x: np.power(x, g), out.dtype))


def _denoise_ycc(image: np.ndarray, sigma: float, strength: float, bgr: bool) -> np.ndarray:
    """Chroma Gaussian at half resolution and luma bilateral, both set by the noise sigma (8-bit codes)."""
    top = max_value(image.dtype)
    ycc = cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb if bgr else cv2.COLOR_RGB2YCrCb)
    y, cr, cb = cv2.split(ycc)
    h, w = y.shape
    chroma = strength * min(4.0, 1.0 + 0.5 * sigma)
    if min(h, w) >= 2:
        half = (w // 2, h // 2)
        cr, cb = (
            cv2.resize(
                cv2.GaussianBlur(cv2.resize(c, half, interpolation=cv2.INTER_AREA), (0, 0), chroma / 2),
                (w, h),
                interpolation=cv2.INTER_LINEAR,
            )
            for c in (cr, cb)
        )
    colour = strength * max(25.0, 6.0 * sigma) * top / 255.0
    if image.dtype == np.uint8:
        y = cv2.bilateralFilter(y, 5, colour, 2.0)
    else:  # OpenCV's bilateral filter takes 8-bit or float images only
        y = np.clip(np.rint(cv2.bilateralFilter(y.astype(np.float32), 5, colour, 2.0)), 0, top).astype(y.dtype)
    return cv2.cvtColor(cv2.merge([y, cr, cb]), cv2.COLOR_YCrCb2BGR if bgr else cv2.COLOR_YCrCb2RGB)


adaptive_denoise.on_bgr = functools.partial(_adaptive_denoise, bgr=True)
