"""The fast path: downscale for estimation, upsample a network's maps and apply them over integer frames.

The frame is never converted to a full-size float array. Maps are first upsampled along
the width at their own (low) row count, in the frame's channel order; then each output row
interpolates between two such rows and applies the model element by element in float32,
rounding once at the end: ``apply_curves_fast`` the Zero-DCE family's LE iterations, with the
same operation order as the reference (``curves.apply_le_curves``); ``apply_maps_fast`` the IAT
family's clamp(M·(x·mul + add), 1e-8, 1)^gamma (``models.iat.apply_maps``). With numba the row
loop is compiled and vectorised; without it, a numpy version of the same computation runs on
blocks of rows (same numbers, slower).

Loops nested in another loop are ``while`` loops on purpose: the numba of the ROS platforms (0.55 on
Ubuntu 22.04, 0.56 on Debian 12) lowers a nested ``range`` loop with an induction variable LLVM does
not recognise, so it is never vectorised (numba issue #8314); with ``while`` the apply pass at 1080p
took 3.5 ms instead of 29 ms there, and the same as ``range`` on recent numba.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

import cv2
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


def _interleaved_taps(n_out: int, n_in: int, channels: int, align_corners: bool) -> tuple[np.ndarray, ...]:
    """Taps along W on an axis of ``channels`` interleaved values per sample: (lower, upper, upper weight)."""
    c0, c1, wc = source_taps(n_out, n_in, align_corners=align_corners)
    channel = np.arange(channels)
    i0 = (c0[:, None] * channels + channel).ravel()
    i1 = (c1[:, None] * channels + channel).ravel()
    return i0, i1, np.repeat(wc, channels)


def _width_taps(maps: np.ndarray, width: int, bgr: bool, align_corners: bool) -> tuple[np.ndarray, ...]:
    """(rows n×h×(w·3) in the frame's channel order, lower taps, upper taps, upper weights) along W for ``width``."""
    h, w, channels = maps.shape
    count = channels // 3
    per_map = maps.reshape(h, w, count, 3).transpose(2, 0, 1, 3)  # n×h×w×3
    if bgr:
        per_map = per_map[..., ::-1]
    rows = np.ascontiguousarray(per_map, dtype=np.float32).reshape(count, h, w * 3)
    # Taps on the interleaved (x, channel) axis, so the compiled loop is one flat gather per output value.
    return rows, *_interleaved_taps(width, w, 3, align_corners)


def widen_maps(maps: np.ndarray, width: int, bgr: bool, align_corners: bool) -> np.ndarray:
    """h×w×(3·n) RGB maps → n×h×(width·3) float32: each RGB triple upsampled along W, in the frame's channel order."""
    rows, i0, i1, t = _width_taps(maps, width, bgr, align_corners)
    out = np.empty((rows.shape[0], rows.shape[1], i0.shape[0]), np.float32)
    _widen(rows, i0, i1, t, out)
    return out


def apply_curves_fast(frame: np.ndarray, curves: np.ndarray, iterations: int, bgr: bool = True) -> np.ndarray:
    """Enhance an H×W×3 uint8/uint16 frame with h×w×C RGB curve maps (any h×w), in the frame's layout.

    Equals rounding ``apply_le_curves(frame / max, upsampled curves)`` to the frame's dtype
    (within one level where float rounding lands on a .5 boundary).
    """
    height, width, _ = frame.shape
    maps = curves.shape[2] // 3
    r0, r1, wr = source_taps(height, curves.shape[0], align_corners=True)
    curves_w = widen_maps(curves, width, bgr, align_corners=True)
    flat = np.ascontiguousarray(frame).reshape(height, width * 3)
    out = np.empty_like(flat)
    _kernel(iterations, maps)(flat, curves_w, r0, r1, wr, max_value(frame.dtype), out)
    return out.reshape(frame.shape)


# IAT maps: out = clamp(M·(x̃·mul + add), FLOOR, 1) ^ gamma, x̃ the frame pre-smoothed by β, as models.iat.apply_maps
# computes it.
MAPS_FLOOR = 1e-8
MAPS = 6  # [mul RGB, add RGB]
SMOOTHED_MAPS = 9  # and a pre-smoothing weight β per channel (llie's student, ``iat_student.smoothing_weight``)


def _binomial_rows(frame: np.ndarray, rows: slice) -> np.ndarray:
    """16 × the 3×3 binomial blur of rows of an H×(W·3) interleaved frame (float32; the border replicated)."""
    height = frame.shape[0]
    index = np.arange(height)[rows]
    above, below = frame[np.maximum(index - 1, 0)], frame[np.minimum(index + 1, height - 1)]
    v = above.astype(np.float32) + np.float32(2.0) * frame[rows] + below
    v = np.concatenate([v[:, :3], v, v[:, -3:]], axis=1)  # replicate the first and last pixel
    return v[:, :-6] + np.float32(2.0) * v[:, 3:-3] + v[:, 6:]


def _maps_numpy(frame, rows, i0, i1, tw, r0, r1, wr, matrix, gamma, full_scale, out):
    """The same computation as the compiled maps kernel, in numpy on blocks of rows (libm's pow)."""
    maps_w = np.empty((rows.shape[0], rows.shape[1], i0.shape[0]), np.float32)
    _widen_numpy(rows, i0, i1, tw, maps_w)
    inv, top = np.float32(1.0) / np.float32(full_scale), np.float32(full_scale)
    width = frame.shape[1] // 3
    for start in range(0, frame.shape[0], 64):
        rows = slice(start, start + 64)
        t = wr[rows, None]
        lo, hi = maps_w[:, r0[rows]], maps_w[:, r1[rows]]
        mul, add, beta = lo + t * (hi - lo)
        x = frame[rows].astype(np.float32)
        x = x + beta * (_binomial_rows(frame, rows) * np.float32(1 / 16) - x)
        y = (x * inv * mul + add).reshape(-1, width, 3)
        z = np.clip(y @ matrix.T, np.float32(MAPS_FLOOR), np.float32(1.0)) ** gamma
        out[rows] = np.clip(z * top + np.float32(0.5), 0, top).reshape(-1, width * 3)


_maps = _maps_numpy
if numba is not None:
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def _float_bits(typingctx, x):  # pragma: no cover - compiled
        """The bits of a float32 as an int32 (a no-op that vectorises, unlike any numba-level reinterpretation)."""
        if x != types.float32:
            return None

        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], context.get_value_type(types.int32))

        return types.int32(types.float32), codegen

    @intrinsic
    def _bits_float(typingctx, x):  # pragma: no cover - compiled
        """The float32 whose bits are the low 32 bits of an integer (numba widens int32 arithmetic to int64)."""
        if not isinstance(x, types.Integer):
            return None

        def codegen(context, builder, sig, args):
            int32 = context.get_value_type(types.int32)
            value = builder.trunc(args[0], int32) if x.bitwidth > 32 else args[0]
            return builder.bitcast(value, context.get_value_type(types.float32))

        return types.float32(x), codegen

    def _centred_polynomial(fn: Callable, degree: int) -> tuple:
        """Power-series coefficients (float32) in d of fn(d) on [-0.5, 0.5], by Chebyshev interpolation."""
        fit = np.polynomial.Chebyshev.interpolate(fn, degree, domain=[-0.5, 0.5])
        coef = fit.convert(kind=np.polynomial.Polynomial, domain=[-0.5, 0.5], window=[-0.5, 0.5]).coef
        return tuple(np.float32(c) for c in coef)

    # log2(m) for m = 1.5 + d in [1, 2): degree 7, max error 4e-7 (no division, unlike the atanh series, which
    # measured 15% slower); 2^f for f = 0.5 + d in [0, 1): degree 5, relative error 1e-7.
    _LOG2 = _centred_polynomial(lambda d: np.log2(d + 1.5), 7)
    _EXP2 = _centred_polynomial(lambda d: 2.0 ** (d + 0.5), 5)

    @numba.njit(inline="always", fastmath=True, nogil=True, error_model="numpy")
    def _gamma_level(v, gamma, scaled):  # pragma: no cover - compiled
        """clamp(v, FLOOR, 1)^gamma as an integer level (rounded); ``scaled``: _EXP2 times the full scale.

        The power is exp2(gamma·log2 v) from the float's exponent and mantissa (relative error < 1e-6): libm's
        powf is a call per value that never vectorises (~200 ms per 1080p frame); this vectorises.
        """
        v = np.float32(MAPS_FLOOR) if v < np.float32(MAPS_FLOOR) else v
        v = np.float32(1.0) if v > np.float32(1.0) else v
        bits = _float_bits(v)
        exponent = (bits >> 23) - 127
        d = _bits_float((bits & 0x7FFFFF) | 0x3F800000) - np.float32(1.5)  # mantissa in [1, 2), centred
        c = _LOG2
        log2 = c[7]
        log2 = c[6] + d * log2
        log2 = c[5] + d * log2
        log2 = c[4] + d * log2
        log2 = c[3] + d * log2
        log2 = c[2] + d * log2
        log2 = c[1] + d * log2
        log2 = c[0] + d * log2
        x = gamma * (np.float32(exponent) + log2)
        # below 2^-126 every output depth rounds to 0; above 0 (gamma < 0 only) the output saturates at full scale,
        # so the level never exceeds it and needs no clip
        x = np.float32(-126.0) if x < np.float32(-126.0) else x
        x = np.float32(0.0) if x > np.float32(0.0) else x
        whole = np.floor(x)
        d = x - whole - np.float32(0.5)
        e = scaled
        two_f = e[0] + d * (e[1] + d * (e[2] + d * (e[3] + d * (e[4] + d * e[5]))))
        return np.int32(two_f * _bits_float((np.int32(whole) + 127) << 23) + np.float32(0.5))

    @numba.njit(inline="always", fastmath=True, nogil=True, boundscheck=False)
    def _widen_row(src, i0, i1, tw, dst):  # pragma: no cover - compiled
        """One low-resolution row upsampled along W into ``dst`` (flat gathers on the interleaved axis)."""
        j = 0
        while j < dst.shape[0]:
            a0 = src[i0[j]]
            dst[j] = a0 + tw[j] * (src[i1[j]] - a0)
            j += 1

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, error_model="numpy", cache=True)
    def _maps(frame, rows, i0, i1, tw, r0, r1, wr, matrix, gamma, full_scale, out):  # pragma: no cover - compiled
        height, n = frame.shape
        width = n // 3
        inv = np.float32(1.0) / np.float32(full_scale)
        top = np.float32(full_scale)
        sixteenth = np.float32(1.0 / 16.0)
        e = _EXP2
        scaled = (e[0] * top, e[1] * top, e[2] * top, e[3] * top, e[4] * top, e[5] * top)
        m00, m01, m02 = matrix[0, 0], matrix[0, 1], matrix[0, 2]
        m10, m11, m12 = matrix[1, 0], matrix[1, 1], matrix[1, 2]
        m20, m21, m22 = matrix[2, 0], matrix[2, 1], matrix[2, 2]
        linear = np.empty(n, np.float32)
        mixed = np.empty(n, np.float32)
        # The vertical [1, 2, 1] sums of the binomial pre-smoothing, with the first and last pixel repeated on
        # either side, so that the horizontal taps need no border test.
        vsum = np.empty(n + 6, np.int32)
        # The maps [mul, add, beta] are widened one low-resolution row at a time into two slots, kept while output
        # rows use them: a whole widened map (6 MB at 1080p, s = 8) cost a write, page faults and reads.
        slots = np.empty((2, 3, n), np.float32)
        row_a, row_b = -1, -1
        # Passes per output row over buffers that stay in L1/L2: the vertical sums; per value the pre-smoothing and
        # the maps (their row interpolation fused in, as in the curve kernel); per pixel the colour matrix; per value
        # the power.
        for y in range(height):
            lo, hi = r0[y], r1[y]
            for need, keep in ((lo, hi), (hi, lo)):
                if need != row_a and need != row_b:
                    if row_a == keep:  # refill the other slot
                        for m in range(3):
                            _widen_row(rows[m, need], i0, i1, tw, slots[1, m])
                        row_b = need
                    else:
                        for m in range(3):
                            _widen_row(rows[m, need], i0, i1, tw, slots[0, m])
                        row_a = need
            s_lo, s_hi = (0 if row_a == lo else 1), (0 if row_a == hi else 1)
            mul_lo, add_lo, beta_lo = slots[s_lo, 0], slots[s_lo, 1], slots[s_lo, 2]
            mul_hi, add_hi, beta_hi = slots[s_hi, 0], slots[s_hi, 1], slots[s_hi, 2]
            t = wr[y]
            above, src, below = frame[max(y - 1, 0)], frame[y], frame[min(y + 1, height - 1)]
            i = 0
            while i < n:
                vsum[i + 3] = np.int32(above[i]) + 2 * np.int32(src[i]) + np.int32(below[i])
                i += 1
            for c in range(3):
                vsum[c] = vsum[c + 3]
                vsum[n + 3 + c] = vsum[n + c]
            # per value over contiguous buffers: pre-smoothing, then x̃·mul + add
            i = 0
            while i < n:
                x = np.float32(src[i])
                b = np.float32(vsum[i] + 2 * vsum[i + 3] + vsum[i + 6]) * sixteenth
                x = x + (beta_lo[i] + t * (beta_hi[i] - beta_lo[i])) * (b - x)
                mul = mul_lo[i] + t * (mul_hi[i] - mul_lo[i])
                linear[i] = x * inv * mul + (add_lo[i] + t * (add_hi[i] - add_lo[i]))
                i += 1
            p = 0
            while p < width:
                i = 3 * p
                y0, y1, y2 = linear[i], linear[i + 1], linear[i + 2]
                mixed[i] = m00 * y0 + m01 * y1 + m02 * y2
                mixed[i + 1] = m10 * y0 + m11 * y1 + m12 * y2
                mixed[i + 2] = m20 * y0 + m21 * y1 + m22 * y2
                p += 1
            dst = out[y]
            i = 0
            while i < n:
                dst[i] = _gamma_level(mixed[i], gamma, scaled)
                i += 1


def apply_maps_fast(frame: np.ndarray, maps: np.ndarray, params: np.ndarray, bgr: bool = True) -> np.ndarray:
    """Enhance an H×W×3 uint8/uint16 frame with IAT maps and global parameters, in the frame's layout.

    maps: h×w×6 float32 [mul RGB, add RGB] or h×w×9 [mul RGB, add RGB, β RGB] (any h×w; upsampled bilinearly at
    sample centres, align_corners=False, as ``models.iat.apply_maps``); params: (10,) [gamma, M row-major, RGB].
    Equals rounding clamp(M·(x̃·mul + add), 1e-8, 1)^gamma · full scale to the frame's dtype, within one level,
    where x̃ = x + β·(b − x) and b is x blurred by the 3×3 binomial (border replicated), fused into the same pass.
    """
    if maps.ndim != 3 or maps.shape[2] not in (MAPS, SMOOTHED_MAPS):
        raise ValueError(f"maps have shape {maps.shape}; expected h×w×6 [mul RGB, add RGB] or h×w×9 (and β RGB)")
    if maps.shape[2] == MAPS:  # no pre-smoothing: β = 0 leaves every value exactly as it is
        maps = np.concatenate([maps, np.zeros((*maps.shape[:2], 3), np.float32)], axis=2)
    params = np.asarray(params, dtype=np.float32)
    if params.shape != (10,):
        raise ValueError(f"global parameters have shape {params.shape}; expected (10,) [gamma, M row-major]")
    if not np.all(np.isfinite(params)):
        raise ValueError(f"global parameters are not finite: {params.tolist()}")
    height, width, _ = frame.shape
    top = max_value(frame.dtype)
    matrix = params[1:].reshape(3, 3)
    if bgr:  # the frame's channel c is RGB channel 2 - c, for the rows and the columns of M
        matrix = matrix[::-1, ::-1]
    r0, r1, wr = source_taps(height, maps.shape[0], align_corners=False)
    rows, i0, i1, tw = _width_taps(maps, width, bgr, align_corners=False)
    flat = np.ascontiguousarray(frame).reshape(height, width * 3)
    out = np.empty_like(flat)
    _maps(flat, rows, i0, i1, tw, r0, r1, wr, np.ascontiguousarray(matrix), params[0], top, out)
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


# --- noise-aware curves: blend towards a denoise guide, then LE curves ---------------------------------------
# The guide is a cheap denoised view of the frame at half resolution: its luma blurred by GUIDE_LUMA there (with the
# 2×2 mean about σ 2.5 at full resolution), its chroma (colour minus luma) taken at quarter resolution and blurred by
# GUIDE_CHROMA there (about σ 6), upsampled to half resolution and added. The kernel samples it bilinearly (pixel
# centres, align_corners=False) and blends per value x' = x + w·(g − x), clips to [0, 1] and applies the LE curves
# (``models.noise_dce.apply_denoise_curves``). One weight per pixel and one three-channel guide keep the pass over
# contiguous values: separate luma and chroma weights needed a per-pixel pass that made the kernel 2.5 times slower.
# The blurs run in OpenCV (~2 ms at 1080p); the last step, chroma upsampled plus luma, is made row by row inside the
# kernel, where it is widened to the frame: a whole guide at half resolution and its widening cost 3 ms more.
# The luma is edge-aware, as one step of a sigma filter at half resolution: the blurred luma b is pulled back to the
# unblurred one u (the 2×2 mean's) by 1 − r, r = max(0, 1 − (d/(c·σ))²)² (Tukey's biweight), d = b − u in 8-bit
# codes, σ the frame's noise sigma (``frame_noise_sigma``: the luma's; u's noise is σ/2), c = EDGE_RANGE. Differences
# the size of the noise are blurred away, edges and texture the blur would erase (d ≥ c·σ) keep u's detail, so that
# a larger blend weight costs the detector less. At half resolution, not per pixel of the frame: what is kept is
# itself a 2×2 mean, so the noise spikes a per-pixel range factor keeps (too far from the guide to blend) are
# averaged too (a per-pixel factor raised NIQE on SICE frames; ``benchmarks/edge_blend_probe.py``).
GUIDE_LUMA = (5, 1.2)  # Gaussian (ksize, sigma) of the half-resolution luma
GUIDE_CHROMA = (7, 1.5)  # Gaussian (ksize, sigma) of the quarter-resolution colour
EDGE_RANGE = 1.0  # with NOISE_FLOOR's top, by the third rule in benchmarks/edge_blend_probe.py (training side)
# The guide the kernel blends towards is mixed per frame by the frame's noise sigma σ: g = b + t·(c − b), b the 3×3
# box mean of the frame at full resolution, c the half-resolution guide above, t = ramp(σ; GUIDE_MIX) (8-bit codes).
# At moderate noise and below (σ about 1.5) the detector needs the fine view's detail, under heavy noise (σ about
# 6.5) the coarse guide's smoothing. Chosen with NOISE_FLOOR's top going from 1 (t = 0) to its shipped value (t = 1),
# on training-side images only, by the rule in benchmarks/denoise_bound_probe.py (mix_shipped4-7).
GUIDE_MIX = (4.0, 7.0)
_LEAST_SIGMA = 0.05  # codes: a frame without measurable noise keeps u wherever b differs by a fraction of a code
DENOISE_MAPS = 4  # [a R, a G, a B, w]


def _halve(image: np.ndarray, dst: np.ndarray | None = None) -> np.ndarray:
    """2×2 mean of an integer image (rounded half up; last odd row/column dropped); the image itself below 2×2."""
    h, w = image.shape[0] // 2, image.shape[1] // 2
    if h < 1 or w < 1:
        return image
    return cv2.resize(image[: 2 * h, : 2 * w], (w, h), dst=dst, interpolation=cv2.INTER_AREA)


class _Arrays(dict):
    """Arrays by name, reused between calls while their shape and dtype stay the same (new ones otherwise)."""

    def get_empty(self, name: str, shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
        """The array ``name`` with this shape and dtype (its values are whatever the last call left there)."""
        array = self.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self[name] = np.empty(shape, dtype)
        return array


_HELD = threading.local()


def _held_arrays() -> _Arrays:
    """This thread's reusable arrays for the guide's intermediates (13 MB at 1080p, kept while the thread lives).

    Allocated fresh, they could be page-faulted on every frame: depending on the allocator's state, the same apply
    took 14.6 ms CPU instead of 8.1 at 1080p.
    """
    if not hasattr(_HELD, "arrays"):
        _HELD.arrays = _Arrays()
    return _HELD.arrays


def edge_scale(sigma: float) -> float:
    """q of the guide's range factor max(0, 1 − q·d²)², d in fractions of full scale, for a frame's noise sigma in
    8-bit codes (inf: q = 0, the blurred luma everywhere)."""
    return (255.0 / (EDGE_RANGE * max(float(sigma), _LEAST_SIGMA))) ** 2


def _edge_aware_numpy(grey: np.ndarray, luma: np.ndarray, q: np.float32, work: np.ndarray) -> None:
    """luma ← u + r·(b − u), u = grey, b = luma, r = max(0, 1 − q·(b − u)²)² (in place; ``work`` for r)."""
    d = np.subtract(luma, grey, out=luma)
    r = np.multiply(d, d, out=work)
    np.multiply(r, -q, out=r)
    np.maximum(np.add(r, np.float32(1.0), out=r), np.float32(0.0), out=r)
    np.multiply(np.multiply(r, r, out=r), d, out=r)
    np.add(grey, r, out=luma)


if numba is not None:

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, cache=True)
    def _edge_aware_numba(grey, luma, q):  # pragma: no cover - compiled
        """``_edge_aware_numpy`` in one pass: 0.05 ms at 1080p against its six numpy passes' 0.7 ms."""
        u, b = grey.ravel(), luma.ravel()
        zero, one = np.float32(0.0), np.float32(1.0)
        for i in range(b.shape[0]):
            d = b[i] - u[i]
            r = one - q * d * d
            r = zero if r < zero else r
            b[i] = u[i] + r * r * d


if numba is not None:

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, cache=True)
    def _scaled_numba(image, top, out):  # pragma: no cover - compiled
        """out ← image · top in float32 (``np.multiply(image, top, dtype=np.float32)``, whose casting loop took 0.27
        against 0.06 ms for the guide's two images at 1080p)."""
        src, dst = image.ravel(), out.ravel()
        for i in range(src.shape[0]):
            dst[i] = np.float32(src[i]) * top


if numba is not None:

    @numba.njit(inline="always", fastmath=True, nogil=True, boundscheck=False)
    def _halve_row_pair(a, b, pair, out, scale):  # pragma: no cover - compiled
        """``out`` ← the 2×2 means of the interleaved RGB rows ``a`` and ``b``, rounded half up as OpenCV's halving
        ((sum of 4 + 2) >> 2), times ``scale`` (``pair``: an int32 row of a's width for the vertical sums)."""
        i = 0
        while i < pair.shape[0]:
            pair[i] = np.int32(a[i]) + np.int32(b[i])
            i += 1
        x = 0
        while x < out.shape[0] // 3:
            s, d = 6 * x, 3 * x
            out[d] = ((pair[s] + pair[s + 3] + 2) >> 2) * scale
            out[d + 1] = ((pair[s + 1] + pair[s + 4] + 2) >> 2) * scale
            out[d + 2] = ((pair[s + 2] + pair[s + 5] + 2) >> 2) * scale
            x += 1

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, cache=True)
    def _halve_twice_numba(frame, half, quarter, top):  # pragma: no cover - compiled
        """``_halve`` of an H×W·3 frame into ``half`` (h×w·3) and of that, times ``top``, into ``quarter`` (float32,
        h/2×w/2·3) in one pass, rounded half up as OpenCV's halving: (sum of 4 + 2) >> 2."""
        pair = np.empty(frame.shape[1], np.int32)
        pairs = np.empty(half.shape[1], np.int32)
        for y in range(half.shape[0]):
            _halve_row_pair(frame[2 * y], frame[2 * y + 1], pair, half[y], np.int32(1))
            if y % 2 == 1 and y // 2 < quarter.shape[0]:
                _halve_row_pair(half[y - 1], half[y], pairs, quarter[y // 2], top)


def _guide_parts(frame: np.ndarray, bgr: bool, sigma: float, arrays: _Arrays) -> tuple[np.ndarray, np.ndarray]:
    """The guide before its last step: (luma h/2×w/2, chroma h/4×w/4×3), float32, written into ``arrays``."""
    frame = np.ascontiguousarray(frame)
    top = np.float32(1.0 / max_value(frame.dtype))
    to_grey = cv2.COLOR_BGR2GRAY if bgr else cv2.COLOR_RGB2GRAY
    held = arrays.get_empty

    def halved(image: np.ndarray, name: str) -> np.ndarray:
        return _halve(image, held(name, (image.shape[0] // 2, image.shape[1] // 2, 3), image.dtype))

    def scaled(image: np.ndarray, name: str) -> np.ndarray:  # image · top in float32, as astype then multiply
        if numba is None:
            return np.multiply(image, top, out=held(name, image.shape), dtype=np.float32)
        out = held(name, image.shape)
        _scaled_numba(image, top, out)
        return out

    height, width = frame.shape[0] // 2, frame.shape[1] // 2
    if numba is not None and min(height, width) >= 2:  # both halvings (and the second's scaling) in one pass
        half = held("half", (height, width, 3), frame.dtype)
        quarter = held("quarter_scaled", (height // 2, width // 2, 3))
        flat = frame.reshape(frame.shape[0], -1)
        _halve_twice_numba(flat, half.reshape(height, -1), quarter.reshape(height // 2, -1), top)
    else:
        half = halved(frame, "half")
        quarter = scaled(halved(half, "quarter"), "quarter_scaled")
    k, s = GUIDE_LUMA
    # the luma in integer codes (OpenCV rounds it): its rounding error, 0.3 codes, is averaged away by the blur (but
    # kept with u where the edge-aware step keeps it)
    grey = scaled(cv2.cvtColor(half, to_grey, dst=held("grey", half.shape[:2], half.dtype)), "grey_scaled")
    luma = cv2.GaussianBlur(grey, (k, k), s, dst=held("luma", half.shape[:2]), borderType=_BORDER)
    if numba is not None:
        _edge_aware_numba(grey, luma, np.float32(edge_scale(sigma)))
    else:
        _edge_aware_numpy(grey, luma, np.float32(edge_scale(sigma)), held("range", luma.shape))
    k, s = GUIDE_CHROMA
    colour = cv2.GaussianBlur(quarter, (k, k), s, dst=held("colour", quarter.shape), borderType=_BORDER)
    colour = colour.reshape(quarter.shape)
    grey = cv2.cvtColor(colour, to_grey, dst=held("colour_grey", quarter.shape[:2]))
    grey = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR, dst=held("colour_grey3", quarter.shape))
    chroma = cv2.subtract(colour, grey, dst=held("chroma", quarter.shape))
    return luma.reshape(half.shape[:2]), chroma.reshape(colour.shape)


def denoise_guide(frame: np.ndarray, sigma: float, bgr: bool = True) -> np.ndarray:
    """The denoised view the noise-aware kernel blends towards: h/2×w/2×3 float32 (fractions of full scale).

    Of an H×W×3 uint8/uint16 frame with noise sigma ``sigma`` (8-bit codes), in its channel order: the luma (0.299 R
    + 0.587 G + 0.114 B, rounded to the frame's codes) of the rounded 2×2 mean, blurred by GUIDE_LUMA where it
    differs from the unblurred one by about the noise (EDGE_RANGE), plus the chroma of the 2×2 mean of that, blurred
    by GUIDE_CHROMA and upsampled bilinearly (pixel centres); blurs replicate the border.
    """
    luma, chroma = _guide_parts(frame, bgr, sigma, _held_arrays())  # both used up below: the result is a new array
    chroma = cv2.resize(chroma, luma.shape[::-1], interpolation=cv2.INTER_LINEAR).reshape(*luma.shape, 3)
    return cv2.add(chroma, cv2.cvtColor(luma, cv2.COLOR_GRAY2BGR)).reshape(*luma.shape, 3)


def guide_mix(sigma: float) -> float:
    """t of a frame's guide mix for its noise sigma (8-bit codes): 0 the box mean, 1 the half-resolution guide."""
    start, full = GUIDE_MIX
    return min(1.0, max(0.0, (float(sigma) - start) / (full - start)))


def box_mean(frame: np.ndarray) -> np.ndarray:
    """The 3×3 box mean of an H×W×3 integer frame in its dtype (rounded; OpenCV's default border, reflect 101).

    The compiled pass (``apply_denoise_curves_fast``) makes the same values row by row.
    """
    return cv2.blur(frame, (3, 3))


def mixed_guide(frame: np.ndarray, sigma: float, bgr: bool = True) -> np.ndarray:
    """The guide the noise-aware kernel blends towards (GUIDE_MIX), float32 fractions of full scale.

    ``denoise_guide`` (h/2×w/2×3) where ``guide_mix(sigma)`` is 1, else b + t·(c − b) at full resolution (H×W×3): b
    the frame's 3×3 box mean, c ``denoise_guide`` upsampled bilinearly at pixel centres.
    """
    t = guide_mix(sigma)
    if t >= 1:
        return denoise_guide(frame, sigma, bgr)
    top = np.float32(1.0 / max_value(frame.dtype))
    fine = np.multiply(box_mean(np.ascontiguousarray(frame)), top, dtype=np.float32)
    if t <= 0:
        return fine
    coarse = resize_bilinear(denoise_guide(frame, sigma, bgr), frame.shape[:2], align_corners=False)
    return fine + np.float32(t) * (coarse - fine)


_BORDER = cv2.BORDER_REPLICATE


def _widen_pixels_numpy(rows: np.ndarray, c0: np.ndarray, c1: np.ndarray, wc: np.ndarray) -> np.ndarray:
    """…×(w·3) RGB rows → …×(W·3) by per-pixel taps along W (lower, upper, upper weight)."""
    pixels = rows.reshape(*rows.shape[:-1], -1, 3)
    lo = pixels[..., c0, :]
    return (lo + wc[:, None] * (pixels[..., c1, :] - lo)).reshape(*rows.shape[:-1], -1)


def _numpy_denoise_kernel(iterations: int) -> Callable:
    """The compiled kernel's computation in numpy on blocks of rows (same numbers, slower)."""

    def kernel(frame, mix, luma, chroma, chroma_taps, guide_taps, rows, map_taps, full_scale, out):
        inv, top = np.float32(1.0) / np.float32(full_scale), np.float32(full_scale)
        if mix < 1:
            fine = box_mean(frame.reshape(frame.shape[0], -1, 3)).reshape(frame.shape)
        c_r0, c_r1, c_wr, c_c0, c_c1, c_wc = chroma_taps
        g_r0, g_r1, g_wr, g_c0, g_c1, g_wc = guide_taps
        r0, r1, wr, c0, c1, wc = map_taps
        if mix > 0:  # the guide at half resolution (chroma upsampled plus luma), then each resolution's rows widened
            lo = chroma[c_r0]
            half = _widen_pixels_numpy(lo + c_wr[:, None] * (chroma[c_r1] - lo), c_c0, c_c1, c_wc)
            guide = _widen_pixels_numpy(half + np.repeat(luma, 3, axis=1), g_c0, g_c1, g_wc)
        maps_w = _widen_pixels_numpy(rows, c0, c1, wc)
        for start in range(0, frame.shape[0], 64):
            block = slice(start, start + 64)
            lo = maps_w[:, r0[block]]
            a, w = lo + wr[block, None] * (maps_w[:, r1[block]] - lo)
            if mix > 0:
                lo = guide[g_r0[block]]
                g = lo + g_wr[block, None] * (guide[g_r1[block]] - lo)
            if mix < 1:
                f = fine[block].astype(np.float32) * inv
                g = f if mix <= 0 else f + mix * (g - f)
            x = frame[block].astype(np.float32) * inv
            v = np.clip(x + w * (g - x), 0, 1)
            for _ in range(iterations):
                v = v + a * (v * v - v)
            out[block] = np.clip(v * top + np.float32(0.5), 0, top)

    return kernel


if numba is not None:

    @numba.njit(inline="always", nogil=True)
    def _free_slot(held, need, keep):  # pragma: no cover - compiled
        """Which of two row slots to fill with row ``need`` while row ``keep`` stays (-1: ``need`` is held)."""
        if held[0] == need or held[1] == need:
            return -1
        return 1 if held[0] == keep else 0

    @numba.njit(inline="always", fastmath=True, nogil=True, boundscheck=False)
    def _widen_pixels(src, c0, c1, wc, dst):  # pragma: no cover - compiled
        """An RGB row upsampled along W into ``dst`` by per-pixel taps (lower, upper, upper weight).

        The three channels written out: LLVM vectorises this, 1.7 times as fast as a gather per value (_widen_row).
        """
        x = 0
        while x < wc.shape[0]:
            lo, hi, t = 3 * c0[x], 3 * c1[x], wc[x]
            a0, a1, a2 = src[lo], src[lo + 1], src[lo + 2]
            dst[3 * x] = a0 + t * (src[hi] - a0)
            dst[3 * x + 1] = a1 + t * (src[hi + 1] - a1)
            dst[3 * x + 2] = a2 + t * (src[hi + 2] - a2)
            x += 1

    @numba.njit(inline="always", fastmath=True, nogil=True, boundscheck=False)
    def _widen_guide_row(src, c0, c1, wc, plus, dst):  # pragma: no cover - compiled
        """An RGB row upsampled along W at pixel centres into ``dst`` (to exactly twice its width without taps), plus
        ``plus``: a value per output pixel, added to its three channels (the luma, in the same pass), or None."""
        if dst.shape[0] != 2 * src.shape[0]:
            _widen_pixels(src, c0, c1, wc, dst)
            x = 0
            while plus is not None and x < plus.shape[0]:
                dst[3 * x] += plus[x]
                dst[3 * x + 1] += plus[x]
                dst[3 * x + 2] += plus[x]
                x += 1
            return
        w = src.shape[0] // 3
        near, far = np.float32(0.75), np.float32(0.25)
        zero = np.float32(0.0)  # None: compiled without the loads of ``plus`` and the additions (fastmath drops + 0)
        for c in range(3):  # the edge pixels repeated
            dst[c] = src[c] + (zero if plus is None else plus[0])
            dst[6 * w - 3 + c] = src[3 * w - 3 + c] + (zero if plus is None else plus[2 * w - 1])
        # output pixels 2j + 1 and 2j + 2, between input pixels j and j + 1, written out value by value: LLVM
        # vectorises this (a loop over the channels it does not), twice as fast as the taps
        j = 0
        while j < w - 1:
            s, d = 3 * j, 6 * j + 3
            a0, a1, a2, b0, b1, b2 = src[s], src[s + 1], src[s + 2], src[s + 3], src[s + 4], src[s + 5]
            p, q = (zero, zero) if plus is None else (plus[2 * j + 1], plus[2 * j + 2])
            dst[d] = near * a0 + far * b0 + p
            dst[d + 1] = near * a1 + far * b1 + p
            dst[d + 2] = near * a2 + far * b2 + p
            dst[d + 3] = far * a0 + near * b0 + q
            dst[d + 4] = far * a1 + near * b1 + q
            dst[d + 5] = far * a2 + near * b2 + q
            j += 1


def _numba_denoise_kernel(iterations: int, band: int) -> Callable:
    """Compile the blend-then-curve row kernel for a fixed iteration count and band of the guide mix t (``_mix_band``).

    One kernel per band, its other bands' branches compiled away: with all three in one loop, LLVM made each slower
    (at 1080p, one thread, CPU time: t = 0 by 0.3-0.6 ms, 0 < t < 1 by 0.8-0.9 ms, t = 1 by 1.2 ms). The outputs
    are those of the one loop within one level (LLVM contracts the arithmetic differently): 2-3 values of a 1080p
    uint8 frame, 0.02% of a uint16 frame's.
    """

    @numba.njit(fastmath=True, nogil=True, boundscheck=False, error_model="numpy", cache=True)
    def kernel(frame, mix, luma, chroma, chroma_taps, guide_taps, rows, map_taps, full_scale, out):
        # pragma: no cover - compiled
        c_r0, c_r1, c_wr, c_c0, c_c1, c_wc = chroma_taps
        g_r0, g_r1, g_wr, g_c0, g_c1, g_wc = guide_taps
        r0, r1, wr, c0, c1, wc = map_taps
        height, n = frame.shape
        inv = np.float32(1.0) / np.float32(full_scale)
        top = np.float32(full_scale)
        zero, one = np.float32(0.0), np.float32(1.0)
        ninth, half = np.float32(1.0 / 9.0), np.float32(0.5)
        # The maps [a, w] and the guide are widened one low-resolution row at a time into two slots each, kept
        # while output rows use them (as in the IAT kernel), so that no full-width array is written. A guide row is
        # made at half resolution first: its chroma interpolated from quarter resolution, plus its luma. None is
        # made where the mix t is 0 (the box mean alone); the box mean is not made where it is 1.
        # The box mean (``box_mean``) is made here too, row by row, instead of cv2.blur into a full-resolution
        # array: the sums of the three frame rows about y (columns, with one pixel on each side reflected as
        # reflect-101 does; the edge pixel itself on a 1-pixel axis), then of three such sums per value. The
        # sums are exact in float32 (at most 9·65535 < 2^24) and sum/9 never has a fractional part of .5 nor
        # within float32's error of it, so floor(sum/9 + 0.5) is OpenCV's rounded mean, to the bit. It is written to
        # a float32 row (as a row of the frame's dtype: 0.5 ms slower with the mix) that the blend below reads as it
        # read cv2.blur's (computed inline, LLVM contracts the mix differently and a few values moved by a level).
        box_sums = np.empty(n + 6, np.float32)
        box = np.empty(n, np.float32)
        last = n // 3 - 1
        edge_lo, edge_hi = (3, 3 * last - 3) if last > 0 else (0, 0)
        map_slots = np.empty((2, 2, n), np.float32)
        map_held = np.full(2, -1, np.int64)
        guide_slots = np.empty((2, n), np.float32)
        guide_held = np.full(2, -1, np.int64)
        chroma_row = np.empty(chroma.shape[1], np.float32)
        half_row = np.empty(3 * luma.shape[1], np.float32)
        for y in range(height):
            lo, hi = r0[y], r1[y]
            for need, keep in ((lo, hi), (hi, lo)):
                s = _free_slot(map_held, need, keep)
                if s >= 0:
                    _widen_pixels(rows[0, need], c0, c1, wc, map_slots[s, 0])
                    _widen_pixels(rows[1, need], c0, c1, wc, map_slots[s, 1])
                    map_held[s] = need
            g0, g1 = g_r0[y], g_r1[y]
            for need, keep in ((g0, g1), (g1, g0)):
                s = _free_slot(guide_held, need, keep) if band != _BOX_MEAN else -1
                if s >= 0:
                    c_lo, c_hi, t = chroma[c_r0[need]], chroma[c_r1[need]], c_wr[need]
                    j = 0
                    while j < chroma_row.shape[0]:
                        chroma_row[j] = c_lo[j] + t * (c_hi[j] - c_lo[j])
                        j += 1
                    _widen_guide_row(chroma_row, c_c0, c_c1, c_wc, luma[need], half_row)
                    _widen_guide_row(half_row, g_c0, g_c1, g_wc, None, guide_slots[s])
                    guide_held[s] = need
            sa, sb = (0 if map_held[0] == lo else 1), (0 if map_held[0] == hi else 1)
            a_lo, a_hi, w_lo, w_hi = map_slots[sa, 0], map_slots[sb, 0], map_slots[sa, 1], map_slots[sb, 1]
            gl, gh = guide_slots[0 if guide_held[0] == g0 else 1], guide_slots[0 if guide_held[0] == g1 else 1]
            t, tg = wr[y], g_wr[y]
            src, dst = frame[y], out[y]
            if band != _COARSE:
                above = frame[y - 1] if y > 0 else frame[min(1, height - 1)]
                below = frame[y + 1] if y < height - 1 else frame[max(0, height - 2)]
                i = 0
                while i < n:
                    box_sums[i + 3] = np.float32(above[i]) + np.float32(src[i]) + np.float32(below[i])
                    i += 1
                for c in range(3):
                    box_sums[c] = box_sums[3 + edge_lo + c]
                    box_sums[n + 3 + c] = box_sums[3 + edge_hi + c]
                i = 0
                while i < n:
                    box[i] = np.floor((box_sums[i] + box_sums[i + 3] + box_sums[i + 6]) * ninth + half)
                    i += 1
            i = 0
            while i < n:
                x = np.float32(src[i]) * inv
                if band == _BOX_MEAN:
                    g = box[i] * inv
                elif band == _COARSE:
                    g = gl[i] + tg * (gh[i] - gl[i])
                else:
                    f = box[i] * inv
                    g = f + mix * (gl[i] + tg * (gh[i] - gl[i]) - f)
                v = x + (w_lo[i] + t * (w_hi[i] - w_lo[i])) * (g - x)
                v = zero if v < zero else (one if v > one else v)
                a = a_lo[i] + t * (a_hi[i] - a_lo[i])
                k = 0
                while k < iterations:
                    v = v + a * (v * v - v)
                    k += 1
                dst[i] = _to_level(v, top)
                i += 1

    return kernel


_DENOISE_KERNELS: dict[tuple[int, int], Callable] = {}
_BOX_MEAN, _BOTH, _COARSE = 0, 1, 2  # bands of the guide mix t: 0, between 0 and 1, 1


def _mix_band(mix: float) -> int:
    """The band of guide mix ``mix``: the guide is the box mean alone, both mixed, or the coarse guide alone."""
    return _BOX_MEAN if mix <= 0 else (_COARSE if mix >= 1 else _BOTH)


def _denoise_kernel(iterations: int, mix: float) -> Callable:
    """The row kernel for ``iterations`` LE steps at guide mix ``mix`` (compiled per band; numpy without numba)."""
    key = (iterations, _mix_band(mix))
    if key not in _DENOISE_KERNELS:
        compiled = numba is not None
        _DENOISE_KERNELS[key] = _numba_denoise_kernel(*key) if compiled else _numpy_denoise_kernel(iterations)
    return _DENOISE_KERNELS[key]


@functools.lru_cache(maxsize=16)
def _taps(size_out: tuple[int, int], size_in: tuple[int, int], align_corners: bool) -> tuple[np.ndarray, ...]:
    """Row and column taps (lower, upper, upper weight) from size_in (h, w) to size_out."""
    taps = (*source_taps(size_out[0], size_in[0], align_corners), *source_taps(size_out[1], size_in[1], align_corners))
    for array in taps:
        array.flags.writeable = False  # shared between calls
    return taps


def apply_denoise_curves_fast(
    frame: np.ndarray, maps: np.ndarray, iterations: int, sigma: float, bgr: bool = True
) -> np.ndarray:
    """Enhance an H×W×3 uint8/uint16 frame with noise-aware maps: blend towards its denoise guide, then LE curves.

    maps: h×w×4 float32 [a RGB, w] (RGB order, any h×w; upsampled as curve maps, align_corners=True); the guide,
    ``mixed_guide(frame, sigma, bgr)`` (sigma: the frame's noise sigma, 8-bit codes), upsampled at pixel centres.
    Equals rounding ``models.noise_dce.apply_denoise_curves`` to the frame's dtype, within one level.
    """
    if maps.ndim != 3 or maps.shape[2] != DENOISE_MAPS:
        raise ValueError(f"maps have shape {maps.shape}; expected h×w×{DENOISE_MAPS} [a RGB, w]")
    height, width, _ = frame.shape
    frame = np.ascontiguousarray(frame)
    arrays, mix = _held_arrays(), guide_mix(sigma)
    # the half-resolution parts where the mix uses them (single zeros, unread, where t = 0: the box mean's frames
    # skip their 2-3 ms); the kernel makes the box mean itself where the mix uses it
    if mix > 0:
        luma, chroma = _guide_parts(frame, bgr, sigma, arrays)
    else:
        luma, chroma = np.zeros((1, 1), np.float32), np.zeros((1, 1, 3), np.float32)
    # rows [a, w w w] in the frame's channel order: the weight repeated for each channel, so that the kernel runs
    # over contiguous values
    rows = np.empty((2, *maps.shape[:2], 3), np.float32)
    rows[0] = maps[..., 2::-1] if bgr else maps[..., :3]
    rows[1] = maps[..., 3:]
    flat = frame.reshape(height, width * 3)
    out = np.empty_like(flat)
    _denoise_kernel(iterations, mix)(
        flat,
        np.float32(mix),
        luma,
        chroma.reshape(chroma.shape[0], -1),
        _taps(luma.shape, chroma.shape[:2], align_corners=False),
        _taps((height, width), luma.shape, align_corners=False),
        rows.reshape(2, maps.shape[0], -1),
        _taps((height, width), maps.shape[:2], align_corners=True),
        max_value(frame.dtype),
        out,
    )
    return out.reshape(frame.shape)
