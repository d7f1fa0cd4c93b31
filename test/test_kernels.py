"""The fast path against the reference computation (float resize + iterative LE curves, rounded)."""

from __future__ import annotations

import cv2
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


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("size", [(1, 1), (1, 2), (2, 1), (2, 3), (3, 1), (3, 3), (5, 2), (37, 53), (70, 45)])
def test_denoise_kernel_box_mean_is_opencvs_to_the_bit(size, dtype):
    # the compiled pass makes the guide mix's 3×3 box mean itself, row by row: with the mix at 0 (sigma below
    # GUIDE_MIX), a = 0 and w = 1 its output is that mean, which must be cv2.blur's to the bit over the dtype's whole
    # range (rounded, reflect-101 borders: on a 1-pixel axis the pixel itself)
    rng = np.random.default_rng(sum(size))
    frame = rng.integers(0, np.iinfo(dtype).max + 1, (*size, 3)).astype(dtype)
    maps = np.zeros((2, 3, kernels.DENOISE_MAPS), np.float32)
    maps[..., 3] = 1.0
    np.testing.assert_array_equal(kernels.apply_denoise_curves_fast(frame, maps, 4, 0.0), cv2.blur(frame, (3, 3)))


@pytest.mark.skipif(kernels.numba is None, reason="numba not installed: only the numpy version exists")
@pytest.mark.parametrize(("shape", "dtype"), [((37, 53), np.uint8), ((9, 7, 3), np.uint16)])
def test_compiled_scaling_of_the_guide_is_numpys_to_the_bit(shape, dtype):
    image = np.random.default_rng(3).integers(0, np.iinfo(dtype).max + 1, shape).astype(dtype)
    top = np.float32(1.0 / np.iinfo(dtype).max)
    out = np.empty(shape, np.float32)
    kernels._scaled_numba(image, top, out)
    np.testing.assert_array_equal(out, np.multiply(image, top, dtype=np.float32))


@pytest.mark.skipif(kernels.numba is None, reason="numba not installed: only the numpy version exists")
@pytest.mark.parametrize("size", [(4, 4), (5, 7), (9, 6), (37, 53)])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_compiled_halvings_of_the_guide_are_opencvs_to_the_bit(size, dtype):
    # the guide's 2×2 means of the frame and of that (scaled to float32) in one compiled pass, against OpenCV's
    frame = np.random.default_rng(sum(size)).integers(0, np.iinfo(dtype).max + 1, (*size, 3)).astype(dtype)
    top = np.float32(1.0 / np.iinfo(dtype).max)
    half = np.empty((size[0] // 2, size[1] // 2, 3), dtype)
    quarter = np.empty((size[0] // 4, size[1] // 4, 3), np.float32)
    kernels._halve_twice_numba(
        frame.reshape(size[0], -1), half.reshape(half.shape[0], -1), quarter.reshape(quarter.shape[0], -1), top
    )
    np.testing.assert_array_equal(half, kernels._halve(frame))
    np.testing.assert_array_equal(quarter, np.multiply(kernels._halve(half), top, dtype=np.float32))


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


# ---------------------------------------------------------------- IAT maps

MAPS_CASES = [
    # (frame H, W), (maps h, w), dtype, gamma
    ((96, 128), (12, 16), np.uint8, 0.8),
    ((37, 53), (5, 7), np.uint8, 1.25),
    ((37, 53), (37, 53), np.uint16, 0.6),
    ((40, 30), (5, 4), np.uint16, 1.6),
    ((1, 1), (1, 1), np.uint8, 1.0),
    ((7, 13), (1, 2), np.uint16, 0.9),
]


def _binomial_reference(image: np.ndarray) -> np.ndarray:
    """The 3×3 binomial blur in float64, border replicated."""
    padded = np.pad(image.astype(np.float64), ((1, 1), (1, 1), (0, 0)), mode="edge")
    taps = np.array([1.0, 2.0, 1.0]) / 4
    h, w = image.shape[:2]
    rows = sum(t * padded[i : i + h] for i, t in enumerate(taps))
    return sum(t * rows[:, i : i + w] for i, t in enumerate(taps))


def _maps_reference(frame: np.ndarray, maps: np.ndarray, params: np.ndarray, bgr: bool) -> np.ndarray:
    """models.iat.apply_maps in float64 numpy: upsample (align_corners=False), x̃ = x + β·(blur(x) − x) for 9 maps,
    x̃·mul + add, M, clamp, power; rounded."""
    top = np.iinfo(frame.dtype).max
    rgb = (frame[:, :, ::-1] if bgr else frame) / top
    full = resize_bilinear(maps, frame.shape[:2], align_corners=False).astype(np.float64)
    if maps.shape[2] == 9:
        rgb = rgb + full[..., 6:] * (_binomial_reference(rgb) - rgb)
    y = rgb * full[..., :3] + full[..., 3:6]
    z = np.clip(y @ params[1:].reshape(3, 3).T.astype(np.float64), 1e-8, 1) ** float(params[0])
    out = np.clip(np.rint(z * top), 0, top)
    return (out[:, :, ::-1] if bgr else out).astype(np.int64)


def _maps_inputs(size, map_size, dtype, gamma, seed, smoothed=False):
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, np.iinfo(dtype).max // 2, (*size, 3)).astype(dtype)
    mul, add = rng.random((*map_size, 3)) * 3, rng.random((*map_size, 3)) * 0.2 - 0.05
    maps = [mul, add, rng.random((*map_size, 3))] if smoothed else [mul, add]
    maps = np.concatenate(maps, axis=2).astype(np.float32)
    matrix = np.eye(3) * 0.8 + rng.random((3, 3)) * 0.25 - 0.05
    return frame, maps, np.array([gamma, *matrix.ravel()], np.float32)


@pytest.mark.parametrize(("size", "map_size", "dtype", "gamma"), MAPS_CASES)
@pytest.mark.parametrize("bgr", [True, False])
@pytest.mark.parametrize("smoothed", [False, True], ids=["6maps", "9maps"])
def test_maps_fast_path_equals_reference(size, map_size, dtype, gamma, bgr, smoothed):
    frame, maps, params = _maps_inputs(size, map_size, dtype, gamma, sum(size), smoothed)
    out = kernels.apply_maps_fast(frame, maps, params, bgr=bgr)
    assert out.dtype == dtype and out.shape == frame.shape
    diff = np.abs(out.astype(np.int64) - _maps_reference(frame, maps, params, bgr))
    assert diff.max() <= 1  # float32 rounding at .5 boundaries only
    assert (diff > 0).mean() < 0.01


@pytest.mark.parametrize("gamma", [0.3, 0.5, 0.75, 1.0, 1.3, 2.0, 3.0])
def test_maps_power_is_exact_to_a_sixteen_bit_level(gamma):
    # Every 16-bit input level once, identity maps and matrix: the output is round(65535 · (x/65535)^gamma).
    frame = np.arange(65536 * 3, dtype=np.int64).reshape(256, 256, 3) // 3
    frame = frame.astype(np.uint16)
    identity = np.concatenate([np.ones((1, 1, 3)), np.zeros((1, 1, 3))], axis=2).astype(np.float32)
    params = np.array([gamma, 1, 0, 0, 0, 1, 0, 0, 0, 1], np.float32)
    out = kernels.apply_maps_fast(frame, identity, params).astype(np.int64)
    expected = np.rint(np.clip(frame / 65535.0, 1e-8, 1) ** gamma * 65535).astype(np.int64)
    assert np.abs(out - expected).max() <= 1
    assert (out != expected).mean() < 0.01  # values within ~0.03 level of a .5 boundary


def test_maps_presmoothing_blurs_by_beta_and_zero_beta_changes_nothing():
    # Identity maps and globals: β = 1 returns the frame blurred by the binomial, β = 0 (or 6 maps) the frame itself.
    frame, _, _ = _maps_inputs((9, 11), (1, 1), np.uint16, 1.0, 3)
    identity = np.array([1.0, 1, 0, 0, 0, 1, 0, 0, 0, 1], np.float32)
    maps = np.concatenate([np.ones((1, 1, 3)), np.zeros((1, 1, 3))], axis=2).astype(np.float32)
    beta0, beta1 = (np.concatenate([maps, np.full((1, 1, 3), b, np.float32)], axis=2) for b in (0.0, 1.0))
    same = kernels.apply_maps_fast(frame, maps, identity)
    np.testing.assert_array_equal(same, frame)
    np.testing.assert_array_equal(kernels.apply_maps_fast(frame, beta0, identity), same)
    blurred = kernels.apply_maps_fast(frame, beta1, identity).astype(np.int64)
    expected = np.rint(_binomial_reference(frame)).astype(np.int64)
    assert np.abs(blurred - expected).max() <= 1
    assert np.abs(blurred - frame).mean() > 1000  # the blur did something on this random frame


def test_maps_channel_order_and_matrix_orientation():
    frame, _, _ = _maps_inputs((6, 8), (1, 1), np.uint8, 1.0, 0)
    maps = np.concatenate([np.ones((1, 1, 3)), np.zeros((1, 1, 3))], axis=2).astype(np.float32)
    swap = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], np.float32)  # out R = in B, out B = in R
    params = np.array([1.0, *swap.ravel()], np.float32)
    np.testing.assert_array_equal(kernels.apply_maps_fast(frame, maps, params, bgr=True), frame[:, :, ::-1])
    red = np.array([1.0, 1, 0, 0, 0, 0, 0, 0, 0, 0], np.float32)  # R kept, G and B to the floor
    out = kernels.apply_maps_fast(frame, maps, red, bgr=True)
    np.testing.assert_array_equal(out[:, :, 2], frame[:, :, 2])
    assert not out[:, :, :2].any()


@pytest.mark.parametrize(
    ("maps", "params", "match"),
    [
        (np.zeros((2, 2, 3)), np.zeros(10), "maps have shape \\(2, 2, 3\\)"),
        (np.zeros((2, 2, 7)), np.zeros(10), "maps have shape \\(2, 2, 7\\)"),
        (np.zeros((2, 2, 6)), np.zeros(9), "global parameters have shape \\(9,\\)"),
        (np.zeros((2, 2, 6)), [np.nan] + [0] * 9, "not finite"),
    ],
)
def test_maps_bad_inputs_are_named(maps, params, match):
    with pytest.raises(ValueError, match=match):
        kernels.apply_maps_fast(np.zeros((4, 4, 3), np.uint8), np.asarray(maps, np.float32), np.asarray(params))


@pytest.mark.skipif(kernels.numba is None, reason="numba not installed: only the numpy version exists")
@pytest.mark.parametrize(("size", "map_size", "dtype", "gamma"), MAPS_CASES[:4])
@pytest.mark.parametrize("smoothed", [False, True], ids=["6maps", "9maps"])
def test_maps_numpy_fallback_equals_compiled_kernel(monkeypatch, size, map_size, dtype, gamma, smoothed):
    frame, maps, params = _maps_inputs(size, map_size, dtype, gamma, 5, smoothed)
    compiled = kernels.apply_maps_fast(frame, maps, params)
    monkeypatch.setattr(kernels, "_maps", kernels._maps_numpy)
    monkeypatch.setattr(kernels, "_widen", kernels._widen_numpy)
    fallback = kernels.apply_maps_fast(frame, maps, params)
    assert np.abs(compiled.astype(np.int64) - fallback).max() <= 1
