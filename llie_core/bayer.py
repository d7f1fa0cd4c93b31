"""RAW Bayer frames: the mosaic, what is needed to read it, and how any pattern maps onto the canonical RGGB one.

A ``RawFrame`` is what a RAW camera or file gives: H×W uint8/uint16 ADC codes, the 2×2 colour pattern, the black
level (the code of no light) and the white level (the code of full scale). RAW networks (``llie_core.models
.llpacknet``) are trained on one layout, RGGB; the other three are the same mosaic seen from an odd row and/or
column, so the engine reads them through a mirror border of one row/column at the top/left (``canonical_offset``):
mirroring keeps every site's colour, since the mirrored row/column is two away from its source. The output is
cropped back, so every pattern gives an H×W result.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Colour channel (0 R, 1 G, 2 B) at each position of the 2×2 Bayer tile, row by row.
BAYER_PATTERNS = {
    "RGGB": ((0, 1), (1, 2)),
    "BGGR": ((2, 1), (1, 0)),
    "GRBG": ((1, 0), (2, 1)),
    "GBRG": ((1, 2), (0, 1)),
}
# (rows, columns) by which a pattern's mosaic must be shifted down/right for its tile to read RGGB.
_OFFSETS = {"RGGB": (0, 0), "GRBG": (0, 1), "GBRG": (1, 0), "BGGR": (1, 1)}
# OpenCV names Bayer patterns by the second row's first two pixels, so RGGB is OpenCV "BG" (as in cv_bridge).
_CV_TO_BGR = {
    "RGGB": cv2.COLOR_BayerBG2BGR,
    "BGGR": cv2.COLOR_BayerRG2BGR,
    "GBRG": cv2.COLOR_BayerGR2BGR,
    "GRBG": cv2.COLOR_BayerGB2BGR,
}


def check_pattern(pattern: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """The tile of a Bayer pattern name; ValueError listing the valid ones otherwise."""
    try:
        return BAYER_PATTERNS[pattern]
    except (KeyError, TypeError):
        raise ValueError(f"unknown Bayer pattern {pattern!r}; valid: {', '.join(BAYER_PATTERNS)}") from None


def canonical_offset(pattern: str) -> tuple[int, int]:
    """(dy, dx): mirror-padding the mosaic by dy rows on top and dx columns on the left makes it RGGB."""
    check_pattern(pattern)
    return _OFFSETS[pattern]


@dataclass(frozen=True)
class RawFrame:
    """One RAW Bayer frame: H×W uint8/uint16 codes, its pattern, black level and white level (codes)."""

    data: np.ndarray
    pattern: str
    black_level: int
    white_level: int

    def __post_init__(self) -> None:
        data = self.data
        if not isinstance(data, np.ndarray) or data.ndim != 2 or data.dtype not in (np.uint8, np.uint16):
            got = f"{getattr(data, 'shape', type(data).__name__)} {getattr(data, 'dtype', '')}"
            raise ValueError(f"a RAW frame's data must be an H×W uint8/uint16 mosaic, got {got}")
        if min(data.shape) < 2:
            raise ValueError(f"a RAW frame must be at least 2×2 (one Bayer tile), got {data.shape}")
        check_pattern(self.pattern)
        top = int(np.iinfo(data.dtype).max)
        if not 0 <= int(self.black_level) < int(self.white_level) <= top:
            raise ValueError(
                f"RAW levels must satisfy 0 <= black_level < white_level <= {top} for {data.dtype} data, "
                f"got black {self.black_level}, white {self.white_level}"
            )

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) of the mosaic."""
        return self.data.shape

    def to_bgr8(self) -> np.ndarray:
        """The mosaic demosaiced to BGR uint8 at its levels, without gain or white balance (``to_bgr8``)."""
        return to_bgr8(self.data, self.pattern, self.black_level, self.white_level)

    def mean_level(self, stride: int = 4) -> float:
        """Mean (code − black) / (white − black) over every ``stride``-th row: the frame's overall exposure."""
        mean = cv2.mean(self.data[::stride])[0]
        return (mean - float(self.black_level)) / (float(self.white_level) - float(self.black_level))


def normalise(codes: np.ndarray, black: float, white: float, amplification: float = 1.0) -> np.ndarray:
    """Codes (any shape) → float32 (code − black)·amplification/(white − black), clipped to [−1, 1].

    The upper clip bounds what an over-estimated amplification or a lamp feeds the network; values below black
    (read noise) are kept: at SID-like light levels they carry a large part of the signal's mean.
    """
    scale = np.float32(amplification / (float(white) - float(black)))
    x = (codes.astype(np.float32) - np.float32(black)) * scale
    return np.clip(x, -1.0, 1.0, out=x)


def rggb_planes(mosaic: np.ndarray) -> np.ndarray:
    """An RGGB mosaic (H×W, even sides) → its four half-resolution planes 4×H/2×W/2 (R, G1, G2, B)."""
    if mosaic.ndim != 2 or mosaic.shape[0] % 2 or mosaic.shape[1] % 2:
        raise ValueError(f"need an H×W mosaic with even sides, got {mosaic.shape}")
    return np.stack([mosaic[0::2, 0::2], mosaic[0::2, 1::2], mosaic[1::2, 0::2], mosaic[1::2, 1::2]])


def mosaic(rgb: np.ndarray, pattern: str = "RGGB") -> np.ndarray:
    """H×W×3 RGB → H×W: each pixel keeps the one channel its Bayer site records (any H, W)."""
    tile = check_pattern(pattern)
    out = np.empty(rgb.shape[:2], dtype=rgb.dtype)
    for dy in range(2):
        for dx in range(2):
            out[dy::2, dx::2] = rgb[dy::2, dx::2, tile[dy][dx]]
    return out


def to_bgr8(data: np.ndarray, pattern: str, black: int = 0, white: int = 0) -> np.ndarray:
    """A mosaic demosaiced to BGR uint8 (OpenCV bilinear), levels mapped to 0..255 (``white`` 0: the dtype's top).

    Every measured value is kept (OpenCV's border interpolation alters some; they are put back), so at the
    default levels re-mosaicing an 8-bit mosaic's result gives the original bytes.
    """
    check_pattern(pattern)
    white = white or int(np.iinfo(data.dtype).max)
    if data.dtype == np.uint8 and (black, white) == (0, 255):
        codes = np.ascontiguousarray(data)
    else:  # saturating subtract (below black: 0), then rounded and saturated to 8 bits
        above = cv2.subtract(np.ascontiguousarray(data), float(black))
        codes = cv2.convertScaleAbs(above, alpha=255.0 / (white - black))
    out = cv2.cvtColor(codes, _CV_TO_BGR[pattern])
    tile = BAYER_PATTERNS[pattern]
    for r in range(2):
        for c in range(2):
            out[r::2, c::2, 2 - tile[r][c]] = codes[r::2, c::2]
    return out
