"""Luma-only tone changes at frame rate: integer Rec.601 luma, CLAHE on it, and moving a new luma into colour.

These are compiled with numba: OpenCV's own CLAHE plus the YCrCb round trip took ~20 ms per 1080p frame on
one core, the compiled passes below 5 ms, with OpenCV's numbers (tested against cv2 on every code path).
Pixel loops inside a row loop are ``while`` loops with the channels spelt out, as in ``llie_core.kernels``:
numba 0.55/0.56 (the ROS platforms' packages) vectorises neither a nested ``range`` loop nor one holding a
``range(3)``.
"""

from __future__ import annotations

import cv2
import numba
import numpy as np

from llie_core.frames import max_value

# OpenCV's fixed-point Rec.601 luma (cvtColor RGB2YCrCb, 8 and 16 bit): Y = (4899 R + 9617 G + 1868 B + 2^13) >> 14.
_R2Y, _G2Y, _B2Y, _SHIFT = 4899, 9617, 1868, 14


def _luma_kernel(w0: int, w2: int):
    """Compile the luma pass for one channel order (weights as constants: variables stopped vectorisation)."""

    @numba.njit(nogil=True, boundscheck=False, cache=True)
    def kernel(flat, out):  # pragma: no cover - compiled
        height, width = out.shape
        for y in range(height):
            row = flat[y]
            dst = out[y]
            x = 0
            while x < width:
                total = w0 * np.int32(row[3 * x]) + _G2Y * np.int32(row[3 * x + 1]) + w2 * np.int32(row[3 * x + 2])
                dst[x] = (total + (1 << (_SHIFT - 1))) >> _SHIFT
                x += 1

    return kernel


_LUMA = {False: _luma_kernel(_R2Y, _B2Y), True: _luma_kernel(_B2Y, _R2Y)}  # keyed by bgr


def luma(image: np.ndarray, bgr: bool = False) -> np.ndarray:
    """H×W×3 RGB (or BGR) uint8/uint16 → H×W luma of the same dtype, exactly as OpenCV's YCrCb Y."""
    height, width, _ = image.shape
    out = np.empty((height, width), image.dtype)
    _LUMA[bool(bgr)](np.ascontiguousarray(image).reshape(height, width * 3), out)
    return out


@numba.njit(nogil=True, boundscheck=False, cache=True)
def _tile_luts(padded, tiles_y, tiles_x, bins, clip, out):  # pragma: no cover - compiled
    tile_h = padded.shape[0] // tiles_y
    tile_w = padded.shape[1] // tiles_x
    total = tile_h * tile_w
    scale = np.float32(bins - 1) / np.float32(total)
    # One sweep over the rows of a tile row counts all its tiles. Eight interleaved 16-bit counters per tile: a
    # dark frame piles its pixels into few bins, and incrementing one counter back to back stalls on its own store;
    # 16 bits keep them in L1. A counter gains at most tile_w // 8 + 7 a row, so folding them into 64-bit totals
    # every `fold_every` rows keeps them from overflowing.
    counts = np.empty((tiles_x, 8, bins), np.uint16)
    totals = np.empty((tiles_x, bins), np.int64)
    hist = np.empty(bins, np.int64)
    fold_every = max(65535 // (tile_w // 8 + 7), 1)
    for ty in range(tiles_y):
        counts[:] = 0
        totals[:] = 0
        for y in range(ty * tile_h, (ty + 1) * tile_h):
            row = padded[y]
            for tx in range(tiles_x):
                tile = counts[tx]
                x = tx * tile_w
                end = x + tile_w
                while x + 8 <= end:
                    tile[0, row[x]] += 1
                    tile[1, row[x + 1]] += 1
                    tile[2, row[x + 2]] += 1
                    tile[3, row[x + 3]] += 1
                    tile[4, row[x + 4]] += 1
                    tile[5, row[x + 5]] += 1
                    tile[6, row[x + 6]] += 1
                    tile[7, row[x + 7]] += 1
                    x += 8
                while x < end:
                    tile[0, row[x]] += 1
                    x += 1
            if (y - ty * tile_h + 1) % fold_every == 0 or y == (ty + 1) * tile_h - 1:
                for tx in range(tiles_x):
                    for j in range(8):
                        lane, total_row = counts[tx, j], totals[tx]
                        i = 0
                        while i < bins:
                            total_row[i] += lane[i]
                            i += 1
                counts[:] = 0
        for tx in range(tiles_x):
            hist[:] = totals[tx]
            if clip > 0:
                # Clip at the limit and hand the excess back evenly, the remainder one count per step.
                excess = 0
                for i in range(bins):
                    if hist[i] > clip:
                        excess += hist[i] - clip
                        hist[i] = clip
                batch = excess // bins
                residual = excess - batch * bins
                for i in range(bins):
                    hist[i] += batch
                if residual > 0:
                    step = max(bins // residual, 1)
                    i = 0
                    while i < bins and residual > 0:
                        hist[i] += 1
                        i += step
                        residual -= 1
            cumulative = 0
            for i in range(bins):
                cumulative += hist[i]
                out[ty, tx, i] = min(np.rint(np.float32(cumulative) * scale), np.float32(bins - 1))


def _offset_lane(top: int) -> tuple[type, np.integer, np.integer]:
    """Integer type for channel + offset arithmetic on values up to top, and the clip bounds in it.

    The whole-number offsets on 8-bit frames run in 16-bit lanes: twice as many per vector as float32.
    (The kernels spell the clip out: a compiled helper captured in a closure defeats numba's on-disk cache.)
    """
    lane = np.int16 if top < 2**15 else np.int32
    return lane, lane(0), lane(top)


def _equalise_kernel(channels: int, top: int):
    """Compile the CLAHE apply pass for 1 (luma) or 3 (colour) channels of one depth (top: its largest value)."""
    lane, low, high = _offset_lane(top)

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, error_model="numpy", cache=True)
    def kernel(flat, y_in, luts, tile_h, tile_w, out):  # pragma: no cover - compiled
        height, width = y_in.shape
        tiles_y, tiles_x, bins = luts.shape
        inv_h = np.float32(1.0) / np.float32(tile_h)
        inv_w = np.float32(1.0) / np.float32(tile_w)
        one = np.float32(1.0)
        half = np.float32(0.5)
        # Columns between two tile centres interpolate the same two tables: segment s covers the columns
        # [bounds[s], bounds[s + 1]) between tiles left[s] and right[s]; xa is a column's weight on the right.
        xa = np.empty(width, np.float32)
        bounds = np.empty(tiles_x + 2, np.intp)
        left = np.empty(tiles_x + 1, np.intp)
        right = np.empty(tiles_x + 1, np.intp)
        count = 0
        previous = -2
        for x in range(width):
            f = np.float32(x) * inv_w - half
            lo = int(np.floor(f))
            xa[x] = f - np.float32(lo)
            if lo != previous:
                bounds[count] = x
                left[count] = max(lo, 0)
                right[count] = min(lo + 1, tiles_x - 1)
                count += 1
                previous = lo
        bounds[count] = width
        # For 8-bit tables, blending the two tile rows once per output row (tiles × bins values) and packing
        # (left, right − left) per segment leaves one 8-byte lookup per pixel, on tables that stay in L1. The
        # result differs from OpenCV's (four lookups per pixel) by one level on < 0.5% of pixels. Tables too large
        # for the row (16-bit, or a narrow frame) are blended per pixel, with OpenCV's four lookups.
        blend_rows = tiles_x * bins <= 4 * width
        blended = np.empty((tiles_x if blend_rows else 0, bins), np.float32)
        pairs = np.empty(2 * bins, np.float32)  # (left, right - left) of each bin, side by side
        pairs64 = pairs.view(np.uint64)
        base = np.empty(width, np.float32)
        slope = np.empty(width, np.float32)
        base32, slope32 = base.view(np.uint32), slope.view(np.uint32)
        for y in range(height):
            f = np.float32(y) * inv_h - half
            lo = int(np.floor(f))
            ya = f - np.float32(lo)
            upper = luts[max(lo, 0)]
            lower = luts[min(lo + 1, tiles_y - 1)]
            src = y_in[y]
            if blend_rows:
                for t in range(tiles_x):
                    above, below, row = upper[t], lower[t], blended[t]
                    i = 0
                    while i < bins:
                        row[i] = above[i] * (one - ya) + below[i] * ya
                        i += 1
                for s in range(count):
                    a, b = blended[left[s]], blended[right[s]]
                    i = 0
                    while i < bins:
                        # Flat indices and both loads first: with pairs[i, 0] and pairs[i, 1] LLVM assumed a
                        # dependence and ran this scalar on every numba (1.35 -> 0.22 ms per 1080p frame).
                        lo, hi = a[i], b[i]
                        pairs[2 * i] = lo
                        pairs[2 * i + 1] = hi - lo
                        i += 1
                    # A plain scalar gather: LLVM declines vector gathers on CPUs where they are microcoded.
                    x = bounds[s]
                    while x < bounds[s + 1]:
                        both = pairs64[src[x]]
                        base32[x] = both & 0xFFFFFFFF
                        slope32[x] = both >> 32
                        x += 1
            else:
                for s in range(count):
                    x = bounds[s]
                    while x < bounds[s + 1]:
                        v = src[x]
                        a = upper[left[s], v] * (one - ya) + lower[left[s], v] * ya
                        base[x] = a
                        slope[x] = upper[right[s], v] * (one - ya) + lower[right[s], v] * ya - a
                        x += 1
            pixels = flat[y]
            dst = out[y]
            x = 0
            while x < width:
                new = np.int32(np.rint(base[x] + xa[x] * slope[x]))
                if channels == 1:
                    dst[x] = new
                else:
                    # Moving luma by an offset on every channel keeps hue, as transfer_luma does.
                    delta = lane(new - np.int32(src[x]))
                    i = 3 * x
                    dst[i] = min(max(lane(lane(pixels[i]) + delta), low), high)
                    dst[i + 1] = min(max(lane(lane(pixels[i + 1]) + delta), low), high)
                    dst[i + 2] = min(max(lane(lane(pixels[i + 2]) + delta), low), high)
                x += 1

    return kernel


_EQUALISE = {(channels, top): _equalise_kernel(channels, top) for channels in (1, 3) for top in (2**8 - 1, 2**16 - 1)}


def _clahe_luts(y: np.ndarray, clip_limit: float, grid: int) -> tuple[np.ndarray, int, int]:
    """Per-tile CLAHE tables of an H×W luma (grid×grid×bins float32) and the tile height and width."""
    bins = max_value(y.dtype) + 1
    height, width = y.shape
    if height % grid or width % grid:
        # OpenCV pads both axes (even one that divides) with a reflected border to whole tiles for the histograms.
        padded = cv2.copyMakeBorder(y, 0, grid - height % grid, 0, grid - width % grid, cv2.BORDER_REFLECT_101)
    else:
        padded = y
    tile_h, tile_w = padded.shape[0] // grid, padded.shape[1] // grid
    clip = max(int(clip_limit * tile_h * tile_w / bins), 1)
    luts = np.empty((grid, grid, bins), np.float32)
    _tile_luts(np.ascontiguousarray(padded), grid, grid, bins, clip, luts)
    return luts, tile_h, tile_w


def clahe_luma(y: np.ndarray, clip_limit: float, grid: int) -> np.ndarray:
    """CLAHE of an H×W uint8/uint16 luma on grid×grid tiles; OpenCV's algorithm and numbers (within 1 level)."""
    y = np.ascontiguousarray(y)
    luts, tile_h, tile_w = _clahe_luts(y, clip_limit, grid)
    out = np.empty_like(y)
    _EQUALISE[1, max_value(y.dtype)](y, y, luts, tile_h, tile_w, out)
    return out


def clahe_colour(image: np.ndarray, clip_limit: float, grid: int, bgr: bool = False) -> np.ndarray:
    """CLAHE of an H×W×3 image's luma, moved into colour as ``transfer_luma`` does, in one pass."""
    height, width, _ = image.shape
    y = luma(image, bgr)
    luts, tile_h, tile_w = _clahe_luts(y, clip_limit, grid)
    out = np.empty((height, width * 3), image.dtype)
    flat = np.ascontiguousarray(image).reshape(height, width * 3)
    _EQUALISE[3, max_value(image.dtype)](flat, y, luts, tile_h, tile_w, out)
    return out.reshape(image.shape)


def _transfer_kernel(top: int):
    """Compile transfer_luma's pass for one depth (top: its largest value)."""
    lane, low, high = _offset_lane(top)

    @numba.njit(nogil=True, boundscheck=False, cache=True)
    def kernel(flat, old, new, out):  # pragma: no cover - compiled
        height, width = old.shape
        for y in range(height):
            before, after, pixels, dst = old[y], new[y], flat[y], out[y]
            x = 0
            while x < width:
                delta = lane(np.int32(after[x]) - np.int32(before[x]))
                i = 3 * x
                dst[i] = min(max(lane(lane(pixels[i]) + delta), low), high)
                dst[i + 1] = min(max(lane(lane(pixels[i + 1]) + delta), low), high)
                dst[i + 2] = min(max(lane(lane(pixels[i + 2]) + delta), low), high)
                x += 1

    return kernel


_TRANSFER = {top: _transfer_kernel(top) for top in (2**8 - 1, 2**16 - 1)}


def transfer_luma(image: np.ndarray, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Give an H×W×3 image the H×W luma ``new`` (it had ``old``) by adding new − old to every channel.

    Adding the same offset to R, G and B is what changing Y at fixed Cr/Cb does in YCrCb, without
    rounding the chroma through 8 bits; hue is kept until a channel clips.
    """
    height, width, _ = image.shape
    out = np.empty((height, width * 3), image.dtype)
    _TRANSFER[max_value(image.dtype)](np.ascontiguousarray(image).reshape(height, width * 3), old, new, out)
    return out.reshape(image.shape)
