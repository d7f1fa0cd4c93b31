"""The fast path: upsample curve maps and apply LE iterations in one pass over integer frames.

The frame is never converted to a full-size float array. Curves are first upsampled along
the width at their own (low) row count, in the frame's channel order; then each output row
interpolates between two such rows and applies the iterations element by element, in float32
with the same operation order as the reference (``curves.apply_le_curves``), rounding once at
the end. With numba the row loop is compiled and vectorised; without it, a numpy version of the
same computation runs on blocks of rows (same numbers, slower).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from llie_core.resize import source_taps

try:
    import numba
except ImportError:  # numba is optional: the numpy version computes the same result
    numba = None

_KERNELS: dict[tuple[int, int], Callable] = {}


def _numba_kernel(iterations: int, maps: int) -> Callable:
    """Compile the row kernel for a fixed iteration and map count (constants let LLVM unroll and vectorise)."""

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, error_model="numpy", cache=True)
    def kernel(frame, curves_w, r0, r1, wr, full_scale, out):  # pragma: no cover - compiled
        height, n = frame.shape
        inv = np.float32(1.0) / np.float32(full_scale)
        top = np.float32(full_scale)
        arow = np.empty((maps, n), np.float32)
        for y in range(height):
            t = wr[y]
            for m in range(maps):
                a0 = curves_w[m, r0[y]]
                a1 = curves_w[m, r1[y]]
                for i in range(n):
                    arow[m, i] = a0[i] + t * (a1[i] - a0[i])
            src = frame[y]
            dst = out[y]
            if maps == 1:
                a_one = arow[0]
                for i in range(n):
                    v = np.float32(src[i]) * inv
                    a = a_one[i]
                    for _ in range(iterations):
                        v = v + a * (v * v - v)
                    dst[i] = np.int32(min(max(v * top + np.float32(0.5), np.float32(0.0)), top))
            else:
                for i in range(n):
                    v = np.float32(src[i]) * inv
                    for k in range(iterations):
                        v = v + arow[k, i] * (v * v - v)
                    dst[i] = np.int32(min(max(v * top + np.float32(0.5), np.float32(0.0)), top))

    return kernel


def _numpy_kernel(iterations: int, maps: int) -> Callable:
    """The same computation as the compiled kernel, in numpy on blocks of rows."""

    def kernel(frame, curves_w, r0, r1, wr, full_scale, out):
        inv, top = np.float32(1.0) / np.float32(full_scale), np.float32(full_scale)
        for start in range(0, frame.shape[0], 64):
            rows = slice(start, start + 64)
            t = wr[rows, None]
            a = curves_w[:, r0[rows]] + t * (curves_w[:, r1[rows]] - curves_w[:, r0[rows]])
            v = frame[rows].astype(np.float32) * inv
            for k in range(iterations):
                ak = a[k if maps > 1 else 0]
                v = v + ak * (v * v - v)
            out[rows] = np.clip(v * top + np.float32(0.5), 0, top).astype(np.int32)

    return kernel


def _kernel(iterations: int, maps: int) -> Callable:
    key = (iterations, maps)
    if key not in _KERNELS:
        _KERNELS[key] = (_numba_kernel if numba is not None else _numpy_kernel)(iterations, maps)
    return _KERNELS[key]


def _widen_numpy(per_map, c0, c1, wc, out):
    """maps×h×w×3 → maps×h×W×3 along W, in place into ``out``."""
    wc = wc[None, None, :, None]
    out[...] = per_map[:, :, c0] * (1 - wc) + per_map[:, :, c1] * wc


_widen = _widen_numpy
if numba is not None:

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, cache=True)
    def _widen(per_map, c0, c1, wc, out):  # pragma: no cover - compiled
        maps, h, _, channels = per_map.shape
        for m in range(maps):
            for y in range(h):
                for x in range(out.shape[2]):
                    t = wc[x]
                    for c in range(channels):
                        a0 = per_map[m, y, c0[x], c]
                        out[m, y, x, c] = a0 + t * (per_map[m, y, c1[x], c] - a0)


def widen_curves(curves: np.ndarray, width: int, bgr: bool) -> np.ndarray:
    """h×w×C RGB curve maps → maps×h×(width·3) float32: upsampled along W (align_corners=True), frame order."""
    h, w, channels = curves.shape
    maps = channels // 3
    c0, c1, wc = source_taps(width, w, align_corners=True)
    per_map = curves.reshape(h, w, maps, 3).transpose(2, 0, 1, 3)  # maps×h×w×3
    if bgr:
        per_map = per_map[..., ::-1]
    out = np.empty((maps, h, width, 3), np.float32)
    _widen(np.ascontiguousarray(per_map, dtype=np.float32), c0, c1, wc, out)
    return out.reshape(maps, h, width * 3)


def apply_curves_fast(frame: np.ndarray, curves: np.ndarray, iterations: int, bgr: bool = True) -> np.ndarray:
    """Enhance an H×W×3 uint8/uint16 frame with h×w×C RGB curve maps (any h×w), in the frame's layout.

    Equals rounding ``apply_le_curves(frame / max, upsampled curves)`` to the frame's dtype
    (within one level where float rounding lands on a .5 boundary).
    """
    height, width, _ = frame.shape
    maps = curves.shape[2] // 3
    r0, r1, wr = source_taps(height, curves.shape[0], align_corners=True)
    curves_w = widen_curves(curves, width, bgr)
    flat = np.ascontiguousarray(frame).reshape(height, width * 3)
    out = np.empty_like(flat)
    _kernel(iterations, maps)(flat, curves_w, r0, r1, wr, int(np.iinfo(frame.dtype).max), out)
    return out.reshape(frame.shape)
