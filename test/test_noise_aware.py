"""The noise-aware DCE (the default model): its kernel against the torch reference, ONNX, the engine, the default."""

from __future__ import annotations

import json
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import llie_core.kernels as kernels
from llie_core import create_enhancer
from llie_core.classical.denoise import noise_sigma
from llie_core.kernels import (
    DENOISE_MAPS,
    GUIDE_MIX,
    apply_denoise_curves_fast,
    denoise_guide,
    guide_mix,
    mixed_guide,
)
from llie_core.registry import DEFAULT_MODEL, get_spec
from llie_core.resize import resize_bilinear

torch = pytest.importorskip("torch")

from llie_core.models import create_model, noise_dce  # noqa: E402
from llie_core.models.dce import apply_curves  # noqa: E402
from llie_core.models.noise_dce import (  # noqa: E402
    BLACK_LEVELS,
    CLEAN_GATE,
    NOISE_FLOOR,
    QUIET_GATE,
    amplified_noise,
    apply_denoise_curves,
    blend_floor,
    quiet_gate,
    upsample_guide,
    weight_gate,
)

NAME = "noise_aware_dce"


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """Seeded random weights (std 0.3, so that the maps depend on the input) whose curves brighten and whose blend
    weight is about one half."""
    torch.manual_seed(0)
    state = {k: torch.randn_like(v) * 0.3 for k, v in create_model(NAME).state_dict().items()}
    state["e_conv4.point_conv.bias"] = torch.tensor([-1.2, -1.0, -0.8, 0.0])
    path = tmp_path_factory.mktemp("noise_aware") / f"{NAME}.pth"
    torch.save(state, path)
    return path


def _maps(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    curves = rng.random((h, w, 3)) * 1.6 - 1.0
    return np.concatenate([curves, rng.random((h, w, 1))], axis=2).astype(np.float32)


def _reference(frame: np.ndarray, maps: np.ndarray, bgr: bool, sigma: float, iterations: int = 4) -> np.ndarray:
    """models.noise_dce.apply_denoise_curves (torch, RGB) on the same guide (``mixed_guide``, as the model's forward
    gets it), rounded to the frame's levels."""
    top = np.iinfo(frame.dtype).max
    rgb = np.ascontiguousarray(frame[:, :, ::-1] if bgr else frame)
    size = frame.shape[:2]
    x = torch.from_numpy(rgb.astype(np.float32) / top).permute(2, 0, 1)[None]
    guide = upsample_guide(torch.from_numpy(mixed_guide(rgb, sigma, bgr=False)).permute(2, 0, 1)[None], size)
    full = torch.from_numpy(resize_bilinear(maps, size, align_corners=True)).permute(2, 0, 1)[None]
    out = np.rint(apply_denoise_curves(x, guide, full, iterations)[0].permute(1, 2, 0).numpy() * top)
    return (out[:, :, ::-1] if bgr else out).astype(np.int64)


CASES = [
    ((48, 64), (4, 6), np.uint8),
    ((37, 53), (4, 5), np.uint8),
    ((40, 31), (3, 3), np.uint16),
    ((1, 1), (1, 1), np.uint8),
    ((5, 2), (1, 1), np.uint16),
]


# the coarse guide (GUIDE_MIX's t = 1) with its luma blurred, edge-aware; the box mean (t = 0); mixed (t = 0.5, 0.83)
SIGMAS = [math.inf, 20.0, 0.0, 2.0, 5.5, 6.5]


@pytest.mark.parametrize(("size", "map_size", "dtype"), CASES)
@pytest.mark.parametrize("bgr", [True, False])
@pytest.mark.parametrize("sigma", SIGMAS)
def test_kernel_equals_torch_reference(size, map_size, dtype, bgr, sigma):
    rng = np.random.default_rng(sum(size))
    frame = rng.integers(0, np.iinfo(dtype).max // 3, (*size, 3)).astype(dtype)
    maps = _maps(*map_size, seed=1)
    out = apply_denoise_curves_fast(frame, maps, 4, sigma, bgr=bgr)
    assert out.dtype == dtype and out.shape == frame.shape
    diff = np.abs(out.astype(np.int64) - _reference(frame, maps, bgr, sigma))
    assert diff.max() <= 1 and (diff > 0).sum() <= max(1, 0.01 * diff.size)  # float rounding: a level here and there


def test_kernel_blends_towards_the_guide_and_keeps_the_frame_without_weight():
    frame = np.random.default_rng(0).integers(0, 200, (40, 60, 3)).astype(np.uint8)
    maps = np.zeros((3, 4, DENOISE_MAPS), np.float32)
    assert np.array_equal(apply_denoise_curves_fast(frame, maps, 4, math.inf), frame)  # a = 0, w = 0: the identity
    maps[..., 3] = 1.0  # w = 1: the guide itself, upsampled
    guide = resize_bilinear(denoise_guide(frame, math.inf), frame.shape[:2], align_corners=False)
    expected = np.clip(np.rint(guide * 255), 0, 255)
    assert np.abs(apply_denoise_curves_fast(frame, maps, 4, math.inf).astype(int) - expected).max() <= 1
    # the guide smooths noise: its values vary far less than the noisy frame's
    assert apply_denoise_curves_fast(frame, maps, 4, math.inf).std() < 0.5 * frame.std()


@pytest.mark.parametrize("bgr", [True, False])
def test_edge_aware_guide_keeps_a_strong_edge_and_smooths_flat_noise(bgr):
    # a step of 60 codes between two flat halves, with grey noise of sigma 3 (the luma's is the same)
    rng = np.random.default_rng(9)
    frame = np.where(np.arange(64) < 32, 40, 100)[None, :, None] + rng.normal(0, 3, (48, 64, 1))
    frame = np.clip(np.rint(np.repeat(frame, 3, axis=2)), 0, 255).astype(np.uint8)
    sigma = noise_sigma(frame, bgr=bgr)
    assert 2 < sigma < 4
    maps = np.zeros((3, 4, DENOISE_MAPS), np.float32)
    maps[..., 3] = 1.0  # a = 0, w = 1: the guide itself, as strong as the blend goes
    edge_aware = apply_denoise_curves_fast(frame, maps, 4, sigma, bgr=bgr).astype(float)
    plain = apply_denoise_curves_fast(frame, maps, 4, math.inf, bgr=bgr).astype(float)  # the luma blurred everywhere

    def step(image: np.ndarray) -> float:  # across the four columns about the step
        return float((image[:, 33] - image[:, 30]).mean())

    assert abs(step(edge_aware) - step(frame.astype(float))) < 3 and step(plain) < 40
    flat = (slice(None), np.r_[0:24, 40:64])  # away from the step: noise, smoothed
    assert edge_aware[flat].std(axis=0).mean() < 0.4 * frame[flat].astype(float).std(axis=0).mean()


def test_kernel_channel_order_and_bad_maps():
    rng = np.random.default_rng(2)
    frame = rng.integers(0, 120, (30, 20, 3)).astype(np.uint8)
    maps = _maps(3, 2, seed=3)
    bgr = apply_denoise_curves_fast(frame, maps, 4, 6.0, bgr=True)
    rgb = apply_denoise_curves_fast(np.ascontiguousarray(frame[:, :, ::-1]), maps, 4, 6.0, bgr=False)
    assert np.array_equal(bgr, rgb[:, :, ::-1])
    with pytest.raises(ValueError, match=r"h×w×4 \[a RGB, w\]"):
        apply_denoise_curves_fast(frame, maps[..., :3], 4, 6.0)


def test_kernel_results_do_not_depend_on_earlier_frames_or_other_threads():
    # the guide's intermediates are arrays reused per thread: frames of other shapes and dtypes before, and other
    # threads at the same time, must not change a frame's result
    rng = np.random.default_rng(7)
    sizes = [((480, 640, 3), np.uint8), ((37, 53, 3), np.uint8), ((480, 640, 3), np.uint16), ((360, 480, 3), np.uint8)]
    frames = [rng.integers(0, np.iinfo(dtype).max // 3, size).astype(dtype) for size, dtype in sizes]
    maps = _maps(4, 5, seed=8)

    def in_new_thread(frame: np.ndarray) -> np.ndarray:
        result = []
        thread = threading.Thread(target=lambda: result.append(apply_denoise_curves_fast(frame, maps, 4, 6.0)))
        thread.start()
        thread.join()
        return result[0]

    expected = [in_new_thread(frame) for frame in frames]
    for i in [0, 1, 2, 0, 3, 2, 1]:
        assert np.array_equal(apply_denoise_curves_fast(frames[i], maps, 4, 6.0), expected[i])
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: apply_denoise_curves_fast(frames[i], maps, 4, 6.0), [0, 1, 2, 3] * 16))
    assert all(np.array_equal(out, expected[i]) for out, i in zip(results, [0, 1, 2, 3] * 16, strict=True))


@pytest.mark.skipif(kernels.numba is None, reason="numba not installed: only the numpy version exists")
@pytest.mark.parametrize("size", [(70, 45), (68, 96)])  # the compiled guide rows: by taps, and doubled without them
@pytest.mark.parametrize("sigma", [10.0, 2.0, 5.5])  # GUIDE_MIX's t 1 (the coarse guide), 0 (the box mean), 0.5
def test_numpy_fallback_equals_compiled_kernel(monkeypatch, size, sigma):
    rng = np.random.default_rng(4)
    frame = rng.integers(0, 65535 // 3, (*size, 3)).astype(np.uint16)  # more rows than one block of the fallback
    maps = _maps(6, 4, seed=5)
    compiled = apply_denoise_curves_fast(frame, maps, 4, sigma)  # 10: about the differences the guide's blur makes
    monkeypatch.setattr(kernels, "numba", None)
    monkeypatch.setattr(kernels, "_DENOISE_KERNELS", {})
    fallback = apply_denoise_curves_fast(frame, maps, 4, sigma)
    assert np.abs(compiled.astype(np.int64) - fallback).max() <= 1


def test_parameter_count_matches_the_registry():
    model = create_model(NAME)
    assert sum(p.numel() for p in model.parameters()) == get_spec(NAME).params == 1_212
    assert model.iterations == 4 and model.scale_factor == 12


def test_estimator_sees_the_noise_sigma(weights):
    enhancer = create_enhancer(NAME, backend="torch", weights=weights, scale_factor=4)
    seen = []
    inner = enhancer._estimator
    enhancer._estimator = lambda image: seen.append(image) or inner(image)
    frame = np.random.default_rng(6).integers(0, 255, (64, 96, 3)).astype(np.uint8)
    enhancer.estimate(frame)
    assert seen[0].shape == (16, 24, 4)
    np.testing.assert_allclose(seen[0][..., 3], noise_sigma(frame, bgr=True), rtol=1e-6)
    # the noisier the frame, the more the (random but fixed) estimator's output depends on the plane
    quiet = enhancer.estimate(np.full((64, 96, 3), 40, np.uint8)).maps
    assert not np.allclose(quiet, enhancer.estimate(frame).maps)


def test_amplified_noise_is_sigma_times_the_curves_slope():
    torch.manual_seed(1)
    low, a = torch.rand(2, 3, 5, 7, dtype=torch.float64), torch.rand(2, 3, 5, 7, dtype=torch.float64) * 2 - 1
    sigma = torch.tensor([0.0, 6.0], dtype=torch.float64).view(2, 1, 1, 1).expand(2, 1, 5, 7)
    eps = 1e-6  # central difference of the LE curves at each pixel's value
    slope = (apply_curves(low + eps, a, 4) - apply_curves(low - eps, a, 4)) / (2 * eps)
    expected = sigma * slope.abs().mean(dim=1, keepdim=True)
    torch.testing.assert_close(amplified_noise(low, a, sigma, 4), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("sigma", [0.0, 2.0, 5.5, 6.5, 7.0, 20.0])  # below GUIDE_MIX's ramp, on it, above
def test_blend_floor_ramps_with_the_amplified_noise_to_a_top_set_by_the_guide_mix(sigma):
    start, full, shipped_top = NOISE_FLOOR
    t = min(1.0, max(0.0, (sigma - GUIDE_MIX[0]) / (GUIDE_MIX[1] - GUIDE_MIX[0])))
    assert guide_mix(sigma) == pytest.approx(t)
    top = 1.0 - (1.0 - shipped_top) * t  # 1 with the box-mean guide, the shipped 0.8 with the coarse one
    noise = torch.tensor([0.0, start, (start + full) / 2, full, 10 * full])
    floor = blend_floor(noise, torch.full_like(noise, sigma))
    torch.testing.assert_close(floor, torch.tensor([0.0, 0.0, top / 2, top, top]))


def test_mixed_guide_is_the_box_mean_the_coarse_guide_or_between():
    rng = np.random.default_rng(12)
    frame = rng.integers(0, 200, (30, 41, 3)).astype(np.uint8)
    # the 3×3 box mean written out: borders reflected without repeating the edge (OpenCV's default), rounded
    padded = np.pad(frame.astype(np.float64), ((1, 1), (1, 1), (0, 0)), mode="reflect")
    box = sum(padded[i : i + 30, j : j + 41] for i in range(3) for j in range(3)) / 9
    fine = np.floor(box + 0.5) / 255
    np.testing.assert_allclose(mixed_guide(frame, 0.0), fine, atol=1e-6)
    coarse = denoise_guide(frame, 9.0)
    np.testing.assert_array_equal(mixed_guide(frame, 9.0), coarse)  # at half resolution: the shipped path
    up = resize_bilinear(denoise_guide(frame, 5.0), frame.shape[:2], align_corners=False)
    t = (5.0 - GUIDE_MIX[0]) / (GUIDE_MIX[1] - GUIDE_MIX[0])
    np.testing.assert_allclose(mixed_guide(frame, 5.0), fine + t * (up - fine), atol=1e-5)


def test_quiet_gate_ramps_with_the_amplified_noise():
    start, full, least = QUIET_GATE
    noise = torch.tensor([0.0, start, (start + full) / 2, full, 10 * full])
    torch.testing.assert_close(quiet_gate(noise), torch.tensor([least, least, (least + 1) / 2, 1.0, 1.0]))


def test_weight_gate_closes_on_clean_frames_except_black_pixels():
    start, full = CLEAN_GATE
    grey = torch.full((1, 3, 1, 5), 100 / 255)  # luma 100 codes: not black
    noise = torch.tensor([0.0, QUIET_GATE[0], (QUIET_GATE[0] + QUIET_GATE[1]) / 2, QUIET_GATE[1], 9.0]).view(1, 1, 1, 5)
    for sigma, share in ((0.0, 0.0), (start, 0.0), ((start + full) / 2, 0.5), (full, 1.0), (9.0, 1.0)):
        gate = weight_gate(noise, torch.full_like(noise, sigma), grey)
        torch.testing.assert_close(gate, share * quiet_gate(noise))
    # black pixels keep the learned weight whatever the noise sigma and the amplified noise; half-way, half of it
    black, blacker = BLACK_LEVELS
    for level, least in ((0.0, 1.0), (black, 1.0), ((black + blacker) / 2, 0.5), (blacker, 0.0)):
        low = torch.full((1, 3, 1, 5), level / 255)
        gate = weight_gate(noise, torch.zeros_like(noise), low)
        torch.testing.assert_close(gate, torch.full_like(noise, least))
    # the luma decides, not one channel: a saturated blue pixel (luma 29 codes) is not black
    blue = torch.tensor([0.0, 0.0, 1.0]).view(1, 3, 1, 1).expand(1, 3, 1, 5)
    torch.testing.assert_close(weight_gate(noise, torch.zeros_like(noise), blue), torch.zeros_like(noise))


def test_the_learned_weight_is_closed_on_clean_frames_but_black_pixels(weights, monkeypatch):
    model = create_model(NAME, weights=weights)
    low = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(3)) * 0.5 + 0.1
    low[..., :4] = 1 / 255  # the left half black (luma 1 code)
    x = torch.cat([low, torch.zeros(1, 1, 8, 8)], 1)  # noise sigma 0: no floor
    with torch.no_grad():
        gated = model.estimate(x)
        monkeypatch.setattr(noise_dce, "weight_gate", lambda noise, sigma, low: torch.ones_like(noise))
        learned = model.estimate(x)
    assert learned[:, 3:].min() > 0
    torch.testing.assert_close(gated[:, :3], learned[:, :3])
    torch.testing.assert_close(gated[:, 3:, :, :4], learned[:, 3:, :, :4])
    assert gated[:, 3:, :, 4:].abs().max() == 0


def test_the_weight_is_floored_only_under_noise(weights):
    model = create_model(NAME, weights=weights)
    low = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(2)) * 0.3
    with torch.no_grad():
        quiet, noisy = (model.estimate(torch.cat([low, torch.full((1, 1, 8, 8), s)], 1)) for s in (0.0, 30.0))
    sigma = torch.full((1, 1, 8, 8), 30.0)
    floor = blend_floor(amplified_noise(low, noisy[:, :3], sigma, model.iterations), sigma)
    assert floor.min() > 0 and torch.all(noisy[:, 3:] >= floor)
    # without noise there is no floor: the weight is the (gated) learned sigmoid, below the floor's top here
    assert quiet[:, 3:].min() < NOISE_FLOOR[2] <= noisy[:, 3:].min()


def test_onnx_estimator_agrees_with_torch(weights, tmp_path):
    pytest.importorskip("onnxruntime")
    from llie_core.export import export_onnx

    onnx = tmp_path / f"{NAME}.onnx"
    export_onnx(create_model(NAME, weights=weights), onnx, graph="estimator")
    frame = np.random.default_rng(7).integers(0, 120, (90, 160, 3)).astype(np.uint8)
    by_ort = create_enhancer(NAME, backend="onnxruntime", weights=onnx)
    by_torch = create_enhancer(NAME, backend="torch", weights=weights)
    np.testing.assert_allclose(by_ort.estimate(frame).maps, by_torch.estimate(frame).maps, atol=1e-5)
    assert np.abs(by_ort.enhance(frame).astype(int) - by_torch.enhance(frame)).max() <= 1
    with pytest.raises(ValueError, match="estimator graph only"):
        export_onnx(create_model(NAME, weights=weights), graph="full")


@pytest.mark.parametrize("layout", ["bgr", "rgb", "mono", "mono16"])
def test_engine_equals_the_torch_model(weights, layout):
    rng = np.random.default_rng(8)
    dtype = np.uint16 if layout == "mono16" else np.uint8
    shape = (60, 80) if layout.startswith("mono") else (60, 80, 3)
    frame = rng.integers(0, np.iinfo(dtype).max // 3, shape).astype(dtype)
    enhancer = create_enhancer(NAME, backend="torch", weights=weights, scale_factor=4)
    out = enhancer.enhance(frame, rgb=layout == "rgb")
    assert out.shape == frame.shape and out.dtype == dtype
    if layout == "mono16":  # the torch model takes 8-bit images: compare the 16-bit result's brightening only
        assert out.mean() > frame.mean()
        return
    rgb = frame if layout == "rgb" else (np.repeat(frame[:, :, None], 3, 2) if layout == "mono" else frame[:, :, ::-1])
    model = create_model(NAME, weights=weights, scale_factor=4)
    with torch.no_grad():
        y = model(torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 255)
    expected = np.rint(y[0].permute(1, 2, 0).numpy() * 255)
    if layout == "mono":
        expected = np.rint(expected.mean(axis=2))
    elif layout == "bgr":
        expected = expected[:, :, ::-1]
    assert np.abs(out.astype(int) - expected).max() <= 1


def test_it_is_the_default_everywhere():
    import yaml

    from llie_core.cli.models import model_rows
    from llie_core.params import ENHANCER_PARAMS
    from training.config import REPO_ROOT

    assert DEFAULT_MODEL == NAME and create_enhancer.__defaults__[0] is None
    rows = {r["name"]: r for r in json.loads(json.dumps(model_rows()))}
    assert rows[NAME]["default"] is True and sum(r["default"] for r in rows.values()) == 1
    assert next(p for p in ENHANCER_PARAMS if p.name == "model").default == NAME  # the nodes' parameter
    for file in ("enhancer.yaml", "pipeline.yaml"):
        params = yaml.safe_load((REPO_ROOT / "config" / file).read_text())["/**"]["ros__parameters"]
        assert params["model"] == NAME, file
