"""Histogram equalisation, global (HE) and contrast-limited adaptive (CLAHE), on the luma channel."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from llie_core.classical._image import apply_lut, check_image
from llie_core.frames import max_value


def he(image: np.ndarray) -> np.ndarray:
    """Global histogram equalisation of luma; H×W×3 RGB uint8/uint16 in, same shape and dtype out."""
    image = check_image(image)
    return _on_luma(image, _equalise)


def clahe(image: np.ndarray, clip_limit: float = 2.0, tile_grid: int = 8) -> np.ndarray:
    """CLAHE of luma on a tile_grid × tile_grid grid; H×W×3 RGB uint8/uint16 in, same shape and dtype out.

    On uint16 OpenCV divides the clip limit by 65536 bins and floors it to a whole count of at least 1,
    so for tiles under ~65536 / clip_limit pixels the limit saturates at 1 and equalisation is stronger
    than for the same frame in uint8.
    """
    image = check_image(image)
    if not clip_limit > 0:
        raise ValueError(f"clip_limit must be > 0, got {clip_limit}")
    if int(tile_grid) != tile_grid or tile_grid < 1:
        raise ValueError(f"tile_grid must be a positive integer, got {tile_grid}")
    equaliser = cv2.createCLAHE(clipLimit=float(clip_limit), tileGridSize=(int(tile_grid), int(tile_grid)))
    return _on_luma(image, equaliser.apply)


def _on_luma(image: np.ndarray, transform: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply transform to the Y of YCrCb and convert back; H×W×3 RGB -> H×W×3 RGB."""
    # Equalising R, G and B separately gives each channel its own curve, which shifts hue and turns
    # coloured gradients grey. Changing only Y while keeping Cr/Cb adds the same offset to R, G and B,
    # which leaves hue unchanged (until a channel clips); and because chroma is kept in absolute units,
    # near-black sensor noise is not amplified into saturated colour as a per-pixel RGB gain would do.
    luma, cr, cb = cv2.split(cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb))
    return cv2.cvtColor(cv2.merge([transform(luma), cr, cb]), cv2.COLOR_YCrCb2RGB)


def _equalise(luma: np.ndarray) -> np.ndarray:
    """Histogram-equalise a single-channel uint8/uint16 image (H×W) through its CDF."""
    top = max_value(luma.dtype)
    hist = cv2.calcHist([luma], [0], None, [top + 1], [0, top + 1]).ravel().astype(np.float64)
    cdf = np.cumsum(hist)
    lowest = cdf[np.flatnonzero(hist)[0]]  # pixels at the darkest level present
    total = cdf[-1]
    if total == lowest:  # a single level: nothing to spread, keep it as it is
        return luma.copy()
    # Subtracting the darkest level's share maps it to 0, so the output spans the full range (as cv2.equalizeHist).
    lut = np.clip(np.rint((cdf - lowest) * (top / (total - lowest))), 0, top).astype(luma.dtype)
    return apply_lut(luma, lut)
