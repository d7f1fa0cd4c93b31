"""Histogram equalisation, global (HE) and contrast-limited adaptive (CLAHE), on the luma channel.

Equalising R, G and B separately gives each channel its own curve, which shifts hue and turns coloured
gradients grey. Changing only luma keeps hue (until a channel clips), and because chroma is kept in
absolute units, near-black sensor noise is not amplified into saturated colour as a per-pixel gain would do.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from llie_core.classical._image import apply_lut, check_image
from llie_core.classical.luma import clahe_colour, luma, transfer_luma
from llie_core.frames import max_value


def he(image: np.ndarray) -> np.ndarray:
    """Global histogram equalisation of luma; H×W×3 RGB uint8/uint16 in, same shape and dtype out."""
    return _he(image, bgr=False)


def clahe(image: np.ndarray, clip_limit: float = 2.0, tile_grid: int = 8) -> np.ndarray:
    """CLAHE of luma on a tile_grid × tile_grid grid; H×W×3 RGB uint8/uint16 in, same shape and dtype out.

    On uint16 OpenCV divides the clip limit by 65536 bins and floors it to a whole count of at least 1,
    so for tiles under ~65536 / clip_limit pixels the limit saturates at 1 and equalisation is stronger
    than for the same frame in uint8 (``luma.clahe_luma`` follows OpenCV here).
    """
    return _clahe(image, clip_limit, tile_grid, bgr=False)


def _he(image: np.ndarray, bgr: bool) -> np.ndarray:
    image = check_image(image)
    y = luma(image, bgr)
    return transfer_luma(image, y, _equalise(y))


def _clahe(image: np.ndarray, clip_limit: float, tile_grid: int, bgr: bool) -> np.ndarray:
    image = check_image(image)
    if not clip_limit > 0:
        raise ValueError(f"clip_limit must be > 0, got {clip_limit}")
    if int(tile_grid) != tile_grid or tile_grid < 1:
        raise ValueError(f"tile_grid must be a positive integer, got {tile_grid}")
    return clahe_colour(image, float(clip_limit), int(tile_grid), bgr)


# Only the luma weights depend on the channel order, so the engine runs these on BGR frames as they come.
he.on_bgr = functools.partial(_he, bgr=True)
clahe.on_bgr = functools.partial(_clahe, bgr=True)


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
