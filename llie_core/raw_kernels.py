"""The RAW family's two compiled passes: the integer mosaic into the network's input, its output into the frame.

``pack`` reads a mosaic of any Bayer pattern (``bayer.RawFrame``) and writes LLPackNet's packed input in one pass:
the canonical RGGB layout through a mirror border (``bayer.canonical_offset``), optional s×s binning of each colour
plane, black level, normalisation and amplification (as ``bayer.normalise``), mirrored padding to a multiple of
16, and the per-colour space-to-depth by 8 (the Pack of ``models.llpacknet``) → 256×h×w float32 at 1/16 of the
mosaic, the layout the estimator graph takes: no float copy of the mosaic and no transpose is made. ``unpack``
does the network's UnPack (depth-to-space by 8 of its 192-channel output), crops back to the frame and rounds to
uint8 in RGB or BGR order, in one pass (the int8 graph outputs the 8-bit values already: then they are only
moved); with binning the output is then upsampled by s (OpenCV bilinear at pixel centres). With numba both
loops are compiled; without it, numpy computes the same values (to rounding).

Loops nested in another loop are ``while`` loops, for the reason given in ``llie_core.kernels``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from llie_core.bayer import RawFrame, canonical_offset
from llie_core.curves import check_scale_factor

try:
    import numba
except ImportError:  # numba is optional: the numpy versions compute the same values
    numba = None

PACK = 8  # the per-colour space-to-depth of LLPackNet: planes at 1/2, packed at 1/16 of the mosaic
PLANES = 4  # R, G1, G2, B of the RGGB tile
PACKED_CHANNELS = PLANES * PACK * PACK  # 256: the estimator graph's input
OUTPUT_CHANNELS = 3 * PACK * PACK  # 192: its output, RGB sub-pixels (channel c·64 + 8·row + column)


@dataclass(frozen=True)
class PackGeometry:
    """Where a mosaic lies in the packed grid: its canonical offset (dy, dx), the binning s, the plane sizes.

    ``planes`` (hp, wp): binned colour-plane size covering the canonical mosaic; ``padded`` (hq, wq): the packed
    grid at 1/16 (planes padded to multiples of 8); ``height``/``width``: the mosaic's.
    """

    height: int
    width: int
    dy: int
    dx: int
    scale: int
    planes: tuple[int, int]
    padded: tuple[int, int]

    @property
    def output_size(self) -> tuple[int, int]:
        """(H, W) of the network's output for the packed grid (binned canonical resolution, padding included)."""
        return 2 * PACK * self.padded[0], 2 * PACK * self.padded[1]


def geometry(height: int, width: int, pattern: str, scale: int = 1) -> PackGeometry:
    """The packing of an H×W mosaic of ``pattern`` binned by ``scale``."""
    check_scale_factor(scale)
    dy, dx = canonical_offset(pattern)
    hp = -(-((height + dy + 1) // 2) // scale)
    wp = -(-((width + dx + 1) // 2) // scale)
    return PackGeometry(height, width, dy, dx, scale, (hp, wp), (-(-hp // PACK), -(-wp // PACK)))


def _bin_numpy(mosaic, dy, dx, s, out):
    hp, wp = out.shape[0] // 2, out.shape[1] // 2
    pad = ((dy, 2 * hp * s - mosaic.shape[0] - dy), (dx, 2 * wp * s - mosaic.shape[1] - dx))
    padded = np.pad(mosaic, pad, mode="reflect")
    planes = np.stack([padded[0::2, 0::2], padded[0::2, 1::2], padded[1::2, 0::2], padded[1::2, 1::2]])
    binned = planes.reshape(PLANES, hp, s, wp, s).mean(axis=(2, 4), dtype=np.float32)
    out[0::2, 0::2], out[0::2, 1::2], out[1::2, 0::2], out[1::2, 1::2] = binned


def _pack_numpy(mosaic, dy, dx, black, scale, out):
    hq, wq = out.shape[1:]
    pad = ((dy, 2 * PACK * hq - mosaic.shape[0] - dy), (dx, 2 * PACK * wq - mosaic.shape[1] - dx))
    x = (np.pad(mosaic, pad, mode="reflect").astype(np.float32) - np.float32(black)) * np.float32(scale)
    # (16i + 2a + py, 16j + 2b + px) → channel (2py + px)·64 + 8a + b at (i, j)
    cells = x.reshape(hq, PACK, 2, wq, PACK, 2).transpose(2, 5, 1, 4, 0, 3).reshape(PACKED_CHANNELS, hq, wq)
    np.clip(cells, -1.0, 1.0, out=out)


_pack = _pack_numpy
if numba is not None:

    @numba.njit(inline="always", nogil=True)
    def _mirror(i, n):  # pragma: no cover - compiled
        """i mirrored into 0..n−1 without repeating the edge (numpy's 'reflect'; keeps the parity of i)."""
        period = 2 * (n - 1)
        i = abs(i) % period
        return period - i if i >= n else i

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, cache=True)
    def _pack(mosaic, dy, dx, black, scale, out):  # pragma: no cover - compiled
        height, width = mosaic.shape
        hq, wq = out.shape[1], out.shape[2]
        lo, hi = np.float32(-1.0), np.float32(1.0)
        for i in range(hq):
            for py in range(2):
                for a in range(8):
                    src = mosaic[_mirror(2 * (8 * i + a) + py - dy, height)]
                    for px in range(2):
                        base = (2 * py + px) * 64 + 8 * a
                        for b in range(8):
                            # one output row: columns 16j + off of the source row, mirrored where outside it
                            dst = out[base + b, i]
                            off = 2 * b + px - dx
                            j0 = 0 if off >= 0 else (15 - off) // 16
                            j1 = max(j0, min(wq, (width - off + 15) // 16))
                            for j in range(j0):
                                x = np.float32(src[_mirror(16 * j + off, width)])
                                dst[j] = min(max((x - black) * scale, lo), hi)
                            j = j0
                            while j < j1:
                                dst[j] = min(max((np.float32(src[16 * j + off]) - black) * scale, lo), hi)
                                j += 1
                            for j in range(j1, wq):
                                x = np.float32(src[_mirror(16 * j + off, width)])
                                dst[j] = min(max((x - black) * scale, lo), hi)


_bin = _bin_numpy
if numba is not None:

    @numba.njit(nogil=True, boundscheck=False, cache=True)  # no fastmath: the same quotient as numpy's mean
    def _bin(mosaic, dy, dx, s, out):  # pragma: no cover - compiled
        height, width = mosaic.shape
        count = np.float32(s * s)
        # the source columns of each output column's s sites, mirrored once here rather than per row
        columns = np.empty((out.shape[1], s), np.int64)
        for x in range(out.shape[1]):
            for v in range(s):
                columns[x, v] = _mirror(2 * ((x // 2) * s + v) + x % 2 - dx, width)
        for y in range(out.shape[0]):
            row = out[y]
            row[:] = 0.0
            for u in range(s):
                src = mosaic[_mirror(2 * ((y // 2) * s + u) + y % 2 - dy, height)]
                x = 0
                while x < out.shape[1]:
                    total = row[x]
                    v = 0
                    while v < s:
                        total += np.float32(src[columns[x, v]])
                        v += 1
                    row[x] = total
                    x += 1
            x = 0
            while x < out.shape[1]:
                row[x] /= count
                x += 1


def _binned(raw: RawFrame, geo: PackGeometry) -> np.ndarray:
    """The mosaic mirrored into the canonical RGGB layout, each colour plane box-averaged by s (float32 codes)."""
    out = np.empty((2 * geo.planes[0], 2 * geo.planes[1]), np.float32)
    _bin(np.ascontiguousarray(raw.data), geo.dy, geo.dx, geo.scale, out)
    return out


def pack(raw: RawFrame, amplification: float, scale: int = 1) -> tuple[np.ndarray, PackGeometry]:
    """The network input of a RAW frame: (256×hq×wq float32, its geometry); values as ``bayer.normalise``."""
    if not np.isfinite(amplification) or amplification <= 0:
        raise ValueError(f"amplification must be a positive number, got {amplification!r}")
    geo = geometry(*raw.shape, raw.pattern, scale)
    out = np.empty((PACKED_CHANNELS, *geo.padded), np.float32)
    gain = np.float32(float(amplification) / (float(raw.white_level) - float(raw.black_level)))
    if scale == 1:
        _pack(np.ascontiguousarray(raw.data), geo.dy, geo.dx, np.float32(raw.black_level), gain, out)
    else:  # binning: the binned canonical mosaic (one compiled pass), then the same pass over it
        _pack(_binned(raw, geo), 0, 0, np.float32(raw.black_level), gain, out)
    return out, geo


def _unpack_numpy(maps, dy, dx, bgr, gain, offset, out):
    height, width = out.shape[:2]
    _, h8, w8 = maps.shape
    image = maps.reshape(3, PACK, PACK, h8, w8).transpose(3, 1, 4, 2, 0).reshape(h8 * PACK, w8 * PACK, 3)
    image = image[dy : dy + height, dx : dx + width]
    if bgr:
        image = image[:, :, ::-1]
    out[...] = np.clip(image * np.float32(gain) + np.float32(offset), 0, 255)


_unpack = _unpack_numpy
if numba is not None:

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, cache=True)
    def _unpack(maps, dy, dx, bgr, gain, offset, out):  # pragma: no cover - compiled
        height, width = out.shape[0], out.shape[1]
        w8 = maps.shape[2]
        top, zero = np.float32(255.0), np.float32(0.0)
        for y in range(height):
            i, a = (y + dy) // 8, (y + dy) % 8
            row = out[y]
            for c in range(3):
                channel = 2 - c if bgr else c
                for b in range(8):
                    # output columns 8j + off of this sub-pixel's channel row
                    src = maps[c * 64 + a * 8 + b, i]
                    off = b - dx
                    j = 0 if off >= 0 else 1
                    end = min(w8, (width - off + 7) // 8)
                    while j < end:
                        row[8 * j + off, channel] = np.uint8(min(max(src[j] * gain + offset, zero), top))
                        j += 1


def unpack(maps: np.ndarray, geo: PackGeometry, bgr: bool = False) -> np.ndarray:
    """The network's 192×h8×w8 output → the frame's H×W×3 uint8 sRGB (BGR with ``bgr``), cropped and upsampled.

    ``maps``: float sRGB in [0, 1] (rounded to 8 bits here), or uint8 codes that are already the 8-bit values
    (the int8 graph's output: ``training.quantize``), which are only moved.
    """
    if maps.ndim != 3 or maps.shape[0] != OUTPUT_CHANNELS:
        raise ValueError(f"network output has shape {maps.shape}; expected {OUTPUT_CHANNELS}×h×w")
    if maps.dtype == np.uint8:
        maps, gain, offset = np.ascontiguousarray(maps), np.float32(1.0), np.float32(0.0)
    else:
        maps, gain, offset = np.ascontiguousarray(maps, dtype=np.float32), np.float32(255.0), np.float32(0.5)
    if geo.scale == 1:
        out = np.empty((geo.height, geo.width, 3), np.uint8)
        _unpack(maps, geo.dy, geo.dx, bgr, gain, offset, out)
        return out
    # Binned: the output covers the binned canonical mosaic; upsample the part that holds it by s, then crop.
    hp, wp = geo.planes
    low = np.empty((2 * hp, 2 * wp, 3), np.uint8)
    _unpack(maps, 0, 0, bgr, gain, offset, low)
    full = cv2.resize(low, (2 * wp * geo.scale, 2 * hp * geo.scale), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(full[geo.dy : geo.dy + geo.height, geo.dx : geo.dx + geo.width])
