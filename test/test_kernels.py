"""The fast path against the reference computation (float resize + iterative LE curves, rounded)."""

from __future__ import annotations

import numpy as np
import pytest

import llie_core.kernels as kernels
from llie_core.curves import apply_le_curves
from llie_core.kernels import apply_curves_fast
from llie_core.resize import resize_bilinear

CASES = [
    # (frame H, W), (curves h, w), iterations, maps, dtype
    ((96, 128), (8, 11), 4, 1, np.uint8),
    ((37, 53), (4, 5), 8, 1, np.uint8),
    ((37, 53), (4, 5), 8, 8, np.uint8),
    ((40, 30), (40, 30), 8, 8, np.uint16),
    ((1, 1), (1, 1), 4, 1, np.uint8),
    ((7, 13), (1, 2), 4, 1, np.uint16),
    ((13, 1), (2, 1), 8, 1, np.uint8),
]


def _reference(frame: np.ndarray, curves: np.ndarray, iterations: int, bgr: bool) -> np.ndarray:
    top = np.iinfo(frame.dtype).max
    rgb = frame[:, :, ::-1] if bgr else frame
    full = resize_bilinear(curves, frame.shape[:2], align_corners=True)
    out = np.clip(np.rint(apply_le_curves(rgb.astype(np.float32) / top, full, iterations) * top), 0, top)
    return (out[:, :, ::-1] if bgr else out).astype(np.int64)


def _inputs(size, curve_size, maps, dtype, seed):
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    frame = rng.integers(0, top // 2, (*size, 3)).astype(dtype)
    curves = (rng.random((*curve_size, 3 * maps), dtype=np.float32) * 1.6 - 1.0).astype(np.float32)
    return frame, curves


@pytest.mark.parametrize(("size", "curve_size", "iterations", "maps", "dtype"), CASES)
@pytest.mark.parametrize("bgr", [True, False])
def test_fast_path_equals_reference(size, curve_size, iterations, maps, dtype, bgr):
    frame, curves = _inputs(size, curve_size, maps, dtype, sum(size))
    out = apply_curves_fast(frame, curves, iterations, bgr=bgr)
    assert out.dtype == dtype and out.shape == frame.shape
    diff = np.abs(out.astype(np.int64) - _reference(frame, curves, iterations, bgr))
    assert diff.max() <= 1  # float rounding at .5 boundaries only
    assert (diff > 0).mean() < 0.01


def test_channel_order_is_respected():
    frame, _ = _inputs((20, 20), (2, 2), 1, np.uint8, 0)
    curves = np.zeros((2, 2, 3), np.float32)
    curves[..., 0] = -1.0  # brighten red only
    out = apply_curves_fast(frame, curves, 4, bgr=True)
    assert np.array_equal(out[:, :, :2], frame[:, :, :2])  # blue and green untouched
    assert (out[:, :, 2] >= frame[:, :, 2]).all() and (out[:, :, 2] > frame[:, :, 2]).any()


@pytest.mark.skipif(kernels.numba is None, reason="numba not installed: only the numpy version exists")
@pytest.mark.parametrize(("size", "curve_size", "iterations", "maps", "dtype"), CASES[:4])
def test_numpy_fallback_equals_compiled_kernel(monkeypatch, size, curve_size, iterations, maps, dtype):
    frame, curves = _inputs(size, curve_size, maps, dtype, 7)
    compiled = apply_curves_fast(frame, curves, iterations)
    monkeypatch.setattr(kernels, "numba", None)
    monkeypatch.setattr(kernels, "_KERNELS", {})
    monkeypatch.setattr(kernels, "_widen", kernels._widen_numpy)
    fallback = apply_curves_fast(frame, curves, iterations)
    assert np.abs(compiled.astype(np.int64) - fallback).max() <= 1


@pytest.mark.parametrize(("size", "low", "dtype"), [((1080, 1920), (90, 160), np.uint8), ((37, 53), (4, 5), np.uint16)])
@pytest.mark.parametrize("reverse", [True, False])
def test_downscale_equals_torch_rule_resize(size, low, dtype, reverse):
    rng = np.random.default_rng(3)
    frame = rng.integers(0, np.iinfo(dtype).max, (*size, 3)).astype(dtype)
    out = kernels.downscale_normalised(frame, low, reverse=reverse)
    expected = resize_bilinear(frame, low, align_corners=False) / np.iinfo(dtype).max
    if reverse:
        expected = expected[:, :, ::-1]
    assert out.shape == (*low, 3) and out.dtype == np.float32
    assert np.abs(out - expected).max() < 2e-6  # same taps and order; fastmath may fuse a multiply-add


def test_downscale_to_the_same_size_only_normalises():
    frame = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    out = kernels.downscale_normalised(frame, (2, 3), reverse=True)
    assert np.array_equal(out, frame[:, :, ::-1] / np.float32(255))
