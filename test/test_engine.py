"""create_enhancer: frame layouts and dtypes, backends, weights resolution, errors, torch-free runtime."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from llie_core import MissingWeightsError, create_enhancer
from llie_core.engine import Estimate

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny(synthetic_weights):
    return create_enhancer("tiny_dce", backend="torch", weights=synthetic_weights("tiny_dce"), scale_factor=4)


@pytest.fixture(scope="module")
def iat_weights(tmp_path_factory):
    """A seeded random checkpoint of the published iat_student layout (mul map lifted off ReLU's zero so every term
    of the output matters); its keys select that layout wherever it lies."""
    import torch

    from llie_core.models import IATStudent

    torch.manual_seed(0)
    state = IATStudent().state_dict()
    state["mul_end.0.bias"] = state["mul_end.0.bias"] + 1.0
    path = tmp_path_factory.mktemp("iat") / "iat_student.pth"
    torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def iat(iat_weights):
    return create_enhancer("iat_student", backend="torch", weights=iat_weights, scale_factor=4)


@pytest.fixture(scope="module")
def noise_aware(synthetic_weights):
    return create_enhancer(
        "noise_aware_dce", backend="torch", weights=synthetic_weights("noise_aware_dce"), scale_factor=4
    )


@pytest.fixture(params=["tiny_dce", "noise_aware_dce", "iat_student"])
def network(request, tiny, noise_aware, iat):
    """Each network family's enhancer (curve, noise-aware curve, IAT) at scale factor 4 on the torch backend."""
    return {"tiny_dce": tiny, "noise_aware_dce": noise_aware, "iat_student": iat}[request.param]


def _dark_frame(height=37, width=53, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 90, size=(height, width, 3), dtype=np.uint8)


def test_enhance_brightens_and_keeps_layout(tiny):
    frame = _dark_frame()
    out = tiny.enhance(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert out.mean() > frame.mean() + 10


def test_bgr_and_rgb_flag_agree(network):
    bgr = _dark_frame()
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    np.testing.assert_array_equal(network.enhance(bgr), network.enhance(rgb, rgb=True)[:, :, ::-1])


def test_mono8_frame_gives_mono8(network):
    mono = _dark_frame()[:, :, 0]
    out = network.enhance(mono)
    assert out.shape == mono.shape and out.dtype == np.uint8
    colour = network.enhance(np.repeat(mono[:, :, None], 3, axis=2))
    # mono output is the channel mean of the enhanced grey frame
    assert np.abs(out.astype(int) - colour.mean(axis=2)).max() <= 1


@pytest.mark.parametrize("mono", [False, True])
def test_16bit_frames_keep_16bit_precision(network, mono):
    frame8 = _dark_frame()
    frame16 = frame8.astype(np.uint16) * 257  # same light in the 16-bit range
    if mono:
        frame8, frame16 = frame8[:, :, 0], frame16[:, :, 0]
    out8, out16 = network.enhance(frame8), network.enhance(frame16)
    assert out16.dtype == np.uint16 and out16.shape == frame16.shape
    diff = np.abs(out16.astype(np.float64) / 257 - out8)
    # The noise-aware DCE blends this very noisy frame towards its denoise guide, made of the frame's rounded
    # codes (2×2 means, luma): in 8 bits that rounding, up to a code, is then amplified by the curves' slope; the
    # guide's edge-aware luma keeps the unblurred 2×2 mean where it differs from the blur, rounding and all.
    assert diff.max() <= (3.0 if network.name == "noise_aware_dce" else 1.0) and diff.mean() <= 0.5
    # 16-bit output is not merely 8-bit output scaled: it keeps the finer levels
    assert np.any(out16 % 257 != 0)


def test_batch_equals_single_frames(network):
    frames = [_dark_frame(10, 20, 1), _dark_frame(31, 7, 2), _dark_frame(5, 5, 3)[:, :, 0]]
    for single, batched in zip([network.enhance(f) for f in frames], network.enhance_batch(frames), strict=True):
        np.testing.assert_array_equal(single, batched)


def test_estimate_then_apply_equals_enhance(tiny):
    frame = _dark_frame(60, 80)
    estimate = tiny.estimate(frame)
    assert estimate.maps.shape == (15, 20, 3) and estimate.maps.dtype == np.float32
    assert estimate.globals.shape == (0,)  # curve models estimate no global parameters
    np.testing.assert_array_equal(tiny.apply(frame, estimate), tiny.enhance(frame))


def test_noise_aware_estimate_carries_the_frames_noise_sigma(noise_aware):
    # the frame's noise sigma is computed once (for the estimator's input) and travels with the estimate: the
    # applier's output with it equals the output computing it again, in each band of the guide mix
    from llie_core.engine.estimate import frame_noise_sigma
    from llie_core.kernels import guide_mix

    rng = np.random.default_rng(5)
    ramp = np.linspace(20, 80, 80)[None, :, None] + np.linspace(0, 20, 60)[:, None, None]
    frames = [np.clip(ramp + rng.normal(0, s, (60, 80, 3)), 0, 255).astype(np.uint8) for s in (0.0, 8.0, 14.0)]
    mixes = []
    for frame in frames:
        estimate = noise_aware.estimate(frame)
        assert estimate.noise_sigma == frame_noise_sigma(frame, bgr=True)
        mixes.append(guide_mix(estimate.noise_sigma))
        carried = noise_aware.apply(frame, estimate)
        np.testing.assert_array_equal(
            carried, noise_aware.apply(frame, dataclasses.replace(estimate, noise_sigma=None))
        )
        np.testing.assert_array_equal(carried, noise_aware.enhance(frame))
    assert mixes[0] == 0 and 0 < mixes[1] < 1 and mixes[2] == 1
    # the carried sigma is the one applied: another one changes the guide
    other = dataclasses.replace(estimate, noise_sigma=0.0)
    assert not np.array_equal(noise_aware.apply(frames[2], other), noise_aware.apply(frames[2], estimate))


@pytest.mark.parametrize("sigma", [-1.0, float("nan"), float("inf"), "3", True])
def test_a_bad_noise_sigma_is_named(noise_aware, sigma):
    estimate = Estimate(np.zeros((3, 3, 4), np.float32), noise_sigma=sigma)
    with pytest.raises(ValueError, match="noise_sigma"):
        noise_aware.apply(_dark_frame(), estimate)


def test_zero_curves_leave_the_frame_unchanged(tiny):
    frame = _dark_frame()
    np.testing.assert_array_equal(tiny.apply(frame, Estimate(np.zeros((3, 3, 3), np.float32))), frame)


def test_iat_estimate_then_apply_equals_enhance(iat):
    frame = _dark_frame(60, 80)
    estimate = iat.estimate(frame)
    assert estimate.maps.shape == (15, 20, 6) and estimate.maps.dtype == np.float32
    assert estimate.globals.shape == (10,) and estimate.globals.dtype == np.float32
    np.testing.assert_array_equal(iat.apply(frame, estimate), iat.enhance(frame))
    mono = frame[:, :, 1]
    np.testing.assert_array_equal(iat.apply(mono, iat.estimate(mono)), iat.enhance(mono))


def test_identity_iat_estimate_leaves_the_frame_unchanged(iat):
    frame = _dark_frame()
    identity = Estimate(
        np.array([[[1, 1, 1, 0, 0, 0]]], np.float32), np.array([1, 1, 0, 0, 0, 1, 0, 0, 0, 1], np.float32)
    )
    np.testing.assert_array_equal(iat.apply(frame, identity), frame)
    np.testing.assert_array_equal(iat.apply(frame[:, :, 0], identity), frame[:, :, 0])


@pytest.mark.parametrize("scale_factor", [1, 4])
def test_iat_engine_equals_the_torch_model(iat_weights, scale_factor):
    # The engine's downscale, estimate and compiled apply against IATFamily.forward (same resampling rules), rounded.
    import torch

    from llie_core.models import create_model

    frame = _dark_frame(45, 61, seed=4)  # BGR
    engine = create_enhancer("iat_student", backend="torch", weights=iat_weights, scale_factor=scale_factor)
    model = create_model("iat_student", weights=iat_weights, scale_factor=scale_factor)
    x = torch.from_numpy(np.ascontiguousarray(frame[:, :, ::-1]) / np.float32(255)).permute(2, 0, 1)[None]
    with torch.no_grad():
        expected = model(x)[0].permute(1, 2, 0).numpy()[:, :, ::-1] * 255
    assert np.abs(engine.enhance(frame) - expected).max() <= 0.5 + 1e-3


def test_frame_scale_factor_grows_with_the_frame():
    from llie_core.curves import frame_scale_factor

    assert frame_scale_factor(1080, 1920, 1, 256) == 8  # 1920/256 = 7.5
    assert frame_scale_factor(341, 512, 1, 256) == 2
    assert frame_scale_factor(200, 256, 1, 256) == 1
    assert frame_scale_factor(200, 257, 1, 256) == 2
    assert frame_scale_factor(1080, 1920, 12, 256) == 12  # the scale factor is a floor
    assert frame_scale_factor(1080, 1920, 3, None) == 3


@pytest.mark.parametrize("name", ["tiny_dce", "iat_student"])
def test_max_estimation_side_equals_the_fixed_scale_factor_per_frame_size(name, synthetic_weights, iat_weights):
    weights = iat_weights if name == "iat_student" else synthetic_weights("tiny_dce")
    adaptive = create_enhancer(name, backend="torch", weights=weights, max_estimation_side=16)
    assert (adaptive.scale_factor, adaptive.max_estimation_side) == (1, 16)
    for (h, w), s in (((37, 53), 4), ((16, 12), 1), ((90, 40), 6)):
        frame = _dark_frame(h, w, seed=h)
        assert adaptive.scale_factor_for(h, w) == s
        fixed = create_enhancer(name, backend="torch", weights=weights, scale_factor=s)
        np.testing.assert_array_equal(adaptive.enhance(frame), fixed.enhance(frame))
        assert max(adaptive.estimate(frame).maps.shape[:2]) <= 16
    with pytest.raises(ValueError, match="max_estimation_side must be an integer >= 1 or None, got 0"):
        create_enhancer(name, backend="torch", weights=weights, max_estimation_side=0)


def test_an_estimate_of_another_family_is_rejected(tiny):
    iat_like = Estimate(np.zeros((3, 3, 6), np.float32), np.zeros(10, np.float32))
    with pytest.raises(ValueError, match="maps have shape \\(3, 3, 6\\); tiny_dce needs h×w×3"):
        tiny.apply(_dark_frame(), iat_like)
    with pytest.raises(ValueError, match="globals have shape \\(2,\\); tiny_dce needs \\(0,\\)"):
        tiny.apply(_dark_frame(), Estimate(np.zeros((3, 3, 3), np.float32), np.ones(2, np.float32)))
    with pytest.raises(TypeError, match="expected an Estimate"):
        tiny.apply(_dark_frame(), np.zeros((3, 3, 3), np.float32))


@pytest.mark.parametrize(
    ("frame", "error", "match"),
    [
        (np.zeros((0, 5, 3), np.uint8), ValueError, "0 pixels"),
        (np.zeros((4, 0), np.uint8), ValueError, "0 pixels"),
        (np.zeros((4, 4, 3), np.float32), TypeError, "dtype float32"),
        (np.zeros((4, 4, 2), np.uint8), ValueError, "shape"),
        ([[1, 2]], TypeError, "numpy array"),
    ],
)
def test_bad_frames_raise_clear_errors(tiny, frame, error, match):
    with pytest.raises(error, match=match):
        tiny.enhance(frame)


def test_batch_error_names_the_frame(tiny):
    with pytest.raises(ValueError, match="frame 1 is empty"):
        tiny.enhance_batch([_dark_frame(), np.zeros((0, 0, 3), np.uint8)])


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="valid names: .*tiny_dce"):
        create_enhancer("tinydce")


def test_unknown_backend_and_option(synthetic_weights):
    weights = synthetic_weights("tiny_dce")
    with pytest.raises(ValueError, match="unknown backend 'tensorflow'"):
        create_enhancer("tiny_dce", backend="tensorflow", weights=weights)
    with pytest.raises(TypeError, match="unknown options"):
        create_enhancer("tiny_dce", weights=weights, gain=2)
    with pytest.raises(ValueError, match="scale_factor"):
        create_enhancer("tiny_dce", weights=weights, scale_factor=0)


def test_missing_default_weights_say_which_file(monkeypatch, tmp_path):
    from llie_core import registry

    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(MissingWeightsError, match=r"tiny_dce\.onnx.*tiny_dce\.pth.*weights='reference'"):
        create_enhancer("tiny_dce")


def test_torch_backend_rejects_onnx_weights(tmp_path):
    with pytest.raises(ValueError, match="torch backend needs a .pth"):
        create_enhancer("tiny_dce", backend="torch", weights=tmp_path / "x.onnx")


@pytest.fixture(scope="module")
def estimator_onnx(tmp_path_factory, synthetic_weights):
    from llie_core.export import export_onnx
    from llie_core.models import create_model

    path = tmp_path_factory.mktemp("onnx") / "tiny_dce_estimator.onnx"
    export_onnx(create_model("tiny_dce", weights=synthetic_weights("tiny_dce")), path, graph="estimator")
    return path


def test_auto_backend_picks_onnxruntime_for_onnx_weights(estimator_onnx, tiny):
    enhancer = create_enhancer("tiny_dce", weights=estimator_onnx, scale_factor=4)
    assert enhancer.backend == "onnxruntime"
    frame = _dark_frame(48, 64)
    assert np.abs(enhancer.enhance(frame).astype(int) - tiny.enhance(frame)).max() <= 1


def test_onnx_of_another_model_is_rejected(estimator_onnx):
    with pytest.raises(ValueError, match="holds model 'tiny_dce', not 'zero_dce_pp'"):
        create_enhancer("zero_dce_pp", weights=estimator_onnx)


def test_full_graph_is_not_an_estimator(tmp_path, synthetic_weights):
    from llie_core.export import export_onnx
    from llie_core.models import create_model

    path = tmp_path / "full.onnx"
    export_onnx(create_model("tiny_dce", weights=synthetic_weights("tiny_dce")), path, graph="full")
    with pytest.raises(ValueError, match="not an llie estimator graph.*--graph estimator"):
        create_enhancer("tiny_dce", weights=path)


def test_corrupt_onnx_file_is_named(tmp_path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"not a protobuf")
    with pytest.raises(ValueError, match="cannot load ONNX model .*broken.onnx"):
        create_enhancer("tiny_dce", weights=path)


@pytest.fixture(scope="module")
def iat_onnx(tmp_path_factory, iat_weights):
    from llie_core.export import export_onnx
    from llie_core.models import create_model

    path = tmp_path_factory.mktemp("onnx") / "iat_student_estimator.onnx"
    export_onnx(create_model("iat_student", weights=iat_weights), path, graph="estimator")
    return path


def test_iat_onnx_estimator_agrees_with_torch(iat_onnx, iat):
    enhancer = create_enhancer("iat_student", weights=iat_onnx, scale_factor=4)
    assert enhancer.backend == "onnxruntime"
    frame = _dark_frame(48, 64, seed=5)
    a, b = enhancer.estimate(frame), iat.estimate(frame)
    assert np.abs(a.maps - b.maps).max() <= 1e-4 and np.abs(a.globals - b.globals).max() <= 1e-4
    assert np.abs(enhancer.enhance(frame).astype(int) - iat.enhance(frame)).max() <= 1


def test_runtime_path_does_not_import_torch(estimator_onnx, iat_onnx):
    code = f"""
import sys, numpy as np
from llie_core import create_enhancer
frame = np.full((40, 60, 3), 30, np.uint8)
out = create_enhancer("tiny_dce", backend="onnxruntime", weights=r"{estimator_onnx}").enhance(frame)
assert out.mean() > 30, out.mean()
out = create_enhancer("iat_student", weights=r"{iat_onnx}", scale_factor=4).enhance(frame)
assert out.shape == frame.shape and out.std() > 0, out.std()
for name in [s.name for s in __import__("llie_core").list_specs("classical")]:
    create_enhancer(name).enhance(frame)
assert "torch" not in sys.modules, "torch was imported"
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("name", ["he", "clahe", "gamma", "adaptive_gamma"])
def test_classical_bgr_frames_equal_the_method_on_rgb(name):
    # he, clahe and gamma take BGR frames directly (fn.on_bgr); the rest go through an RGB copy
    from llie_core.classical import CLASSICAL_METHODS

    bgr = _dark_frame(64, 96, seed=2)
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    enhancer = create_enhancer(name)
    expected = CLASSICAL_METHODS[name](rgb, **enhancer.params)[:, :, ::-1]
    np.testing.assert_array_equal(enhancer.enhance(bgr), expected)
    np.testing.assert_array_equal(enhancer.enhance(rgb, rgb=True), expected[:, :, ::-1])
    assert not np.array_equal(expected, bgr)


def test_model_card_sets_the_default_scale_factor_of_shipped_weights(monkeypatch, tmp_path, iat_weights):
    import shutil

    from llie_core import registry

    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    shutil.copy(iat_weights, tmp_path / "iat_student.pth")
    assert create_enhancer("iat_student", backend="torch").scale_factor == 1  # no card: the registry's
    (tmp_path / "iat_student.yaml").write_text("name: iat_student\ndefault_scale_factor: 8\n")
    assert create_enhancer("iat_student", backend="torch").scale_factor == 8
    assert registry.default_scale_factor("iat_student") == 8
    from llie_core.models import create_model

    assert create_model("iat_student").scale_factor == 8  # the torch model (and its full-graph export) agree
    assert create_enhancer("iat_student", backend="torch", scale_factor=2).scale_factor == 2
    # other weights (a path, the reference) keep the registry's default
    assert create_enhancer("iat_student", backend="torch", weights=iat_weights).scale_factor == 1
    # max_estimation_side: the estimator's longer side is bounded, the scale factor grows with the frame; an
    # explicit scale factor holds for every size
    (tmp_path / "iat_student.yaml").write_text("default_scale_factor: 1\nmax_estimation_side: 256\n")
    enhancer = create_enhancer("iat_student", backend="torch")
    assert enhancer.max_estimation_side == 256 and registry.default_max_estimation_side("iat_student") == 256
    assert (enhancer.scale_factor_for(1080, 1920), enhancer.scale_factor_for(341, 512)) == (8, 2)
    assert create_enhancer("iat_student", backend="torch", scale_factor=2).scale_factor_for(1080, 1920) == 2
    assert create_enhancer("iat_student", backend="torch", weights=iat_weights).max_estimation_side is None
    assert create_enhancer("iat_student", backend="torch", max_estimation_side=100).scale_factor_for(1080, 1920) == 20
    (tmp_path / "iat_student.yaml").write_text("max_estimation_side: 0\n")
    with pytest.raises(ValueError, match=r"iat_student\.yaml: max_estimation_side must be an integer >= 1, got 0"):
        create_enhancer("iat_student", backend="torch")
    (tmp_path / "iat_student.yaml").write_text("default_scale_factor: 0\n")
    with pytest.raises(ValueError, match=r"iat_student\.yaml: default_scale_factor must be an integer >= 1, got 0"):
        create_enhancer("iat_student", backend="torch")
