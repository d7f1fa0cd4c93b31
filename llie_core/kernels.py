"""The fast path: downscale for estimation, upsample curve maps and apply LE iterations over integer frames.

The frame is never converted to a full-size float array. Curves are first upsampled along
the width at their own (low) row count, in the frame's channel order; then each output row
interpolates between two such rows and applies the iterations element by element, in float32
with the same operation order as the reference (``curves.apply_le_curves``), rounding once at
the end. With numba the row loop is compiled and vectorised; without it, a numpy version of the
same computation runs on blocks of rows (same numbers, slower).

Loops nested in another loop are ``while`` loops on purpose: the numba of the ROS platforms (0.55 on
Ubuntu 22.04, 0.56 on Debian 12) lowers a nested ``range`` loop with an induction variable LLVM does
not recognise, so it is never vectorised (numba issue #8314); with ``while`` the apply pass at 1080p
took 3.5 ms instead of 29 ms there, and the same as ``range`` on recent numba.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from llie_core.frames import max_value
from llie_core.resize import resize_bilinear, source_taps

try:
    import numba
except ImportError:  # numba is optional: the numpy version computes the same result
    numba = None

_KERNELS: dict[tuple[int, int], Callable] = {}


if numba is not None:

    @numba.njit(inline="always", fastmath=True, nogil=True)
    def _to_level(v, top):  # pragma: no cover - compiled
        """v in [0, 1] → nearest integer level of full scale ``top`` (as int32), clipped."""
        w = v * top + np.float32(0.5)
        w = np.float32(0.0) if w < np.float32(0.0) else w
        w = top if w > top else w
        return np.int32(w)  # truncation: w >= 0, so this rounds half up


def _numba_kernel(iterations: int, maps: int) -> Callable:
    """Compile the row kernel for a fixed iteration and map count (constants let LLVM unroll and vectorise)."""

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, error_model="numpy", cache=True)
    def kernel(frame, curves_w, r0, r1, wr, full_scale, out):  # pragma: no cover - compiled
        height, n = frame.shape
        inv = np.float32(1.0) / np.float32(full_scale)
        top = np.float32(full_scale)
        for y in range(height):
            t = wr[y]
            src = frame[y]
            dst = out[y]
            # The row interpolation of the curve is fused into the pixel loop: a separate pass over a row
            # buffer cost as much as four LE iterations.
            if maps == 1:
                lo = curves_w[0, r0[y]]
                hi = curves_w[0, r1[y]]
                i = 0
                while i < n:
                    a = lo[i] + t * (hi[i] - lo[i])
                    v = np.float32(src[i]) * inv
                    k = 0
                    while k < iterations:
                        v = v + a * (v * v - v)
                        k += 1
                    dst[i] = _to_level(v, top)
                    i += 1
            else:
                i = 0
                while i < n:
                    v = np.float32(src[i]) * inv
                    k = 0
                    while k < iterations:
                        a0 = curves_w[k, r0[y], i]
                        v = v + (a0 + t * (curves_w[k, r1[y], i] - a0)) * (v * v - v)
                        k += 1
                    dst[i] = _to_level(v, top)
                    i += 1

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
            out[rows] = np.clip(v * top + np.float32(0.5), 0, top)

    return kernel


def _kernel(iterations: int, maps: int) -> Callable:
    key = (iterations, maps)
    if key not in _KERNELS:
        _KERNELS[key] = (_numba_kernel if numba is not None else _numpy_kernel)(iterations, maps)
    return _KERNELS[key]


def _widen_numpy(rows, i0, i1, t, out):
    """maps×h×(w·3) → maps×h×(W·3) by gathering interleaved taps, in place into ``out``."""
    lo = rows[:, :, i0]
    out[...] = lo + t * (rows[:, :, i1] - lo)


_widen = _widen_numpy
if numba is not None:

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, cache=True)
    def _widen(rows, i0, i1, t, out):  # pragma: no cover - compiled
        maps, h, n = out.shape
        for m in range(maps):
            for y in range(h):
                src = rows[m, y]
                dst = out[m, y]
                j = 0
                while j < n:
                    a0 = src[i0[j]]
                    dst[j] = a0 + t[j] * (src[i1[j]] - a0)
                    j += 1


def widen_curves(curves: np.ndarray, width: int, bgr: bool) -> np.ndarray:
    """h×w×C RGB curve maps → maps×h×(width·3) float32: upsampled along W (align_corners=True), frame order."""
    h, w, channels = curves.shape
    maps = channels // 3
    c0, c1, wc = source_taps(width, w, align_corners=True)
    per_map = curves.reshape(h, w, maps, 3).transpose(2, 0, 1, 3)  # maps×h×w×3
    if bgr:
        per_map = per_map[..., ::-1]
    rows = np.ascontiguousarray(per_map, dtype=np.float32).reshape(maps, h, w * 3)
    # Taps on the interleaved (x, channel) axis, so the compiled loop is one flat gather per output value.
    channel = np.arange(3)
    i0 = (c0[:, None] * 3 + channel).ravel()
    i1 = (c1[:, None] * 3 + channel).ravel()
    out = np.empty((maps, h, width * 3), np.float32)
    _widen(rows, i0, i1, np.repeat(wc, 3), out)
    return out


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
    _kernel(iterations, maps)(flat, curves_w, r0, r1, wr, max_value(frame.dtype), out)
    return out.reshape(frame.shape)


def _downscale_numpy(frame, r0, r1, wr, c0, c1, wc, reverse, out):
    low = resize_bilinear(frame, out.shape[:2], align_corners=False)
    out[...] = (low[:, :, ::-1] if reverse else low) / np.float32(max_value(frame.dtype))


_downscale = _downscale_numpy
if numba is not None:

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, cache=True)
    def _downscale(frame, r0, r1, wr, c0, c1, wc, reverse, out):  # pragma: no cover - compiled
        h, w, _ = out.shape
        inv = np.float32(1.0) / np.float32(np.iinfo(frame.dtype).max)
        one = np.float32(1.0)
        for y in range(h):
            top, bottom, ty = frame[r0[y]], frame[r1[y]], wr[y]
            for x in range(w):
                left, right, tx = c0[x], c1[x], wc[x]
                for c in range(3):
                    # rows first, then columns: the order of resize_bilinear
                    a = np.float32(top[left, c]) * (one - ty) + np.float32(bottom[left, c]) * ty
                    b = np.float32(top[right, c]) * (one - ty) + np.float32(bottom[right, c]) * ty
                    out[y, x, 2 - c if reverse else c] = (a * (one - tx) + b * tx) * inv


def downscale_normalised(frame: np.ndarray, size: tuple[int, int], reverse: bool) -> np.ndarray:
    """H×W×3 integer frame → size (h, w)×3 float32 in [0, 1] (torch bilinear, align_corners=False).

    ``reverse`` flips the channel order (BGR frame → RGB estimator input) in the same pass.
    Only the 2 source rows and columns per output sample are read, so a 1080p frame costs ~0.1 ms.
    """
    height, width = size
    if (height, width) == frame.shape[:2]:
        low = frame.astype(np.float32) / np.float32(max_value(frame.dtype))
        return np.ascontiguousarray(low[:, :, ::-1]) if reverse else low
    r0, r1, wr = source_taps(height, frame.shape[0], align_corners=False)
    c0, c1, wc = source_taps(width, frame.shape[1], align_corners=False)
    out = np.empty((height, width, 3), np.float32)
    _downscale(np.ascontiguousarray(frame), r0, r1, wr, c0, c1, wc, reverse, out)
    return out
