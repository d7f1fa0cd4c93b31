"""The IAT family modules: topology, weight variants and their input range, the estimate/apply split, export."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from conftest import assert_estimator_graph_matches, shared_path  # noqa: E402
from golden import read_rgb  # noqa: E402

from llie_core.models import CheckpointError, IATStudent, apply_maps, create_model  # noqa: E402
from llie_core.models.iat import IAT, adaptive_avg_pool  # noqa: E402
from llie_core.registry import get_spec, list_specs  # noqa: E402

PUBLISHED_PARAMS = {"iat": 91_154, "iat_student": 43_504}
OWN_PARAMS = {"iat": 91_154, "iat_student": 27_361}  # the registry's iat_student is llie's own student


@pytest.mark.parametrize(("name", "cls"), [("iat", IAT), ("iat_student", IATStudent)])
def test_parameter_count_matches_published(name, cls):
    assert sum(p.numel() for p in cls().parameters()) == PUBLISHED_PARAMS[name]


@pytest.mark.parametrize("name", sorted(OWN_PARAMS))
def test_parameter_count_matches_registry(name):
    model = create_model(name)
    assert sum(p.numel() for p in model.parameters()) == OWN_PARAMS[name] == get_spec(name).params


def test_registry_lists_iat_models():
    assert {s.name: s.params for s in list_specs("iat")} == OWN_PARAMS


@pytest.mark.parametrize(
    ("name", "weights", "input_range"),
    [
        ("iat", "reference", "signed"),
        ("iat", "reference:lol_v1", "unit"),
        ("iat", "reference:lol_v2", "signed"),
        ("iat", "reference:exposure", "signed"),
        ("iat_student", "reference", "signed"),
    ],
)
def test_reference_variants_carry_their_input_range(name, weights, input_range):
    shared_path("weights", "reference")
    assert create_model(name, weights=weights).input_range == input_range


def test_input_range_follows_the_file_not_its_name(tmp_path):
    # What the engine does: it resolves "reference:lol_v1" to a path before building the model.
    copy = tmp_path / "renamed.pth"
    shutil.copy(shared_path("weights", "reference", "iat_lol_v1.pth"), copy)
    assert create_model("iat", weights=copy).input_range == "unit"
    assert create_model("iat", weights=copy, input_range="signed").input_range == "signed"


def test_unit_and_signed_weights_differ_only_in_normalisation():
    # A "signed" model fed x equals a "unit" model with the same weights fed 2x - 1 (before the final clamp).
    torch.manual_seed(0)
    signed = IATStudent(input_range="signed").eval()  # the published layout (llie's own takes [0, 1] only)
    unit = IATStudent(input_range="unit").eval()
    unit.load_state_dict(signed.state_dict())
    x = torch.rand(1, 3, 40, 56)
    with torch.no_grad():
        maps_s, params_s = signed.estimate(x)
        maps_u, params_u = unit.estimate(2 * x - 1)
    torch.testing.assert_close(params_s, params_u)
    y_signed = x * maps_s[:, :3] + maps_s[:, 3:]
    y_unit = (2 * x - 1) * maps_u[:, :3] + maps_u[:, 3:]
    torch.testing.assert_close(y_signed, y_unit, atol=1e-5, rtol=1e-5)


def test_bad_variant_and_input_range_are_named():
    with pytest.raises(ValueError, match="no reference variant 'lol_v3'; valid: reference:lol_v1"):
        create_model("iat", weights="reference:lol_v3")
    with pytest.raises(ValueError, match="input_range must be one of"):
        create_model("iat", input_range="minus_one_to_one")
    with pytest.raises(TypeError, match="unknown options"):
        create_model("iat_student", iterations=3)


def test_checkpoint_of_the_other_iat_model_is_rejected():
    with pytest.raises(CheckpointError, match=r"missing keys \['global_net\..*unexpected keys \['add_blocks"):
        create_model("iat", weights=shared_path("weights", "reference", "iat_student.pth"))


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS))
@pytest.mark.parametrize("size", [(1, 1), (7, 13), (37, 53)])
@pytest.mark.parametrize("scale_factor", [1, 4])
def test_any_size_gives_full_size_output_and_low_resolution_maps(name, size, scale_factor):
    torch.manual_seed(0)
    model = create_model(name, scale_factor=scale_factor)
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        out, maps, params = model.enhance_with_maps(x)
    low = tuple((n + scale_factor - 1) // scale_factor for n in size)
    channels = 9 if name == "iat_student" else 6  # llie's student adds its pre-smoothing weights
    assert out.shape == x.shape and maps.shape == (2, channels, *low) and params.shape == (2, 10)
    assert torch.isfinite(out).all() and out.min() > 0 and out.max() <= 1


def test_apply_maps_order_and_matrix_orientation():
    # out_c = clamp(Σ_k M[c,k]·(x_k·mul_k + add_k), 1e-8, 1) ** gamma, written out per pixel in numpy
    rng = np.random.default_rng(3)
    x = rng.random((1, 3, 4, 5), dtype=np.float32)
    maps = np.concatenate([rng.random((1, 3, 4, 5)) * 2, rng.random((1, 3, 4, 5)) * 0.2 - 0.1], 1).astype(np.float32)
    matrix = np.array([[0.9, 0.2, -0.1], [0.05, 1.1, 0.0], [-0.2, 0.1, 0.8]], np.float32)
    params = np.concatenate([[0.7], matrix.ravel()]).astype(np.float32)[None]
    y = x * maps[:, :3] + maps[:, 3:]
    expected = np.clip(np.einsum("ck,nkhw->nchw", matrix, y), 1e-8, 1) ** np.float32(0.7)
    got = apply_maps(*(torch.from_numpy(a) for a in (x, maps, params)))
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-6)


def test_apply_maps_presmooths_by_beta_as_the_kernel_does():
    # 9 maps: x̃ = x + β·(binomial(x) − x) before x̃·mul + add; β = 1 with identity maps is the blur itself, written
    # out here with the border replicated; the compiled kernel computes the same on integer frames.
    from llie_core.kernels import apply_maps_fast

    rng = np.random.default_rng(4)
    frame = rng.integers(0, 256, (9, 12, 3), dtype=np.uint8)
    x = torch.from_numpy(frame.transpose(2, 0, 1).copy())[None].float() / 255
    identity = torch.tensor([[1.0, 1, 0, 0, 0, 1, 0, 0, 0, 1]])
    ones = torch.cat([torch.ones(1, 3, 9, 12), torch.zeros(1, 3, 9, 12), torch.ones(1, 3, 9, 12)], 1)
    padded = np.pad(frame / 255.0, ((1, 1), (1, 1), (0, 0)), mode="edge")
    taps = np.array([1.0, 2.0, 1.0]) / 4
    rows = sum(t * padded[i : i + 9] for i, t in enumerate(taps))
    blurred = sum(t * rows[:, i : i + 12] for i, t in enumerate(taps))
    got = apply_maps(x, ones, identity)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(got, np.clip(blurred, 1e-8, 1), atol=1e-6)
    maps = torch.cat([torch.rand(1, 3, 3, 4) * 2, torch.rand(1, 3, 3, 4) * 0.1, torch.rand(1, 3, 3, 4)], 1)
    params = torch.tensor([[0.8, 1.0, 0.1, 0, 0.05, 0.9, 0, 0, 0.1, 1.0]])
    reference = (apply_maps(x, maps, params)[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.int64)
    fast = apply_maps_fast(frame, maps[0].permute(1, 2, 0).numpy(), params[0].numpy(), bgr=False)
    assert np.abs(fast.astype(np.int64) - reference).max() <= 1
    unsmoothed = apply_maps(x, maps[:, :6], params)
    assert (apply_maps(x, maps, params) - unsmoothed).abs().max() > 0.01  # β did something


def test_apply_maps_upsamples_low_resolution_maps_at_sample_centres():
    x = torch.rand(1, 3, 23, 31)
    maps, params = torch.rand(1, 6, 4, 5), torch.tensor([[1.0, 1, 0, 0, 0, 1, 0, 0, 0, 1]])
    full = F.interpolate(maps, size=(23, 31), mode="bilinear", align_corners=False)
    torch.testing.assert_close(apply_maps(x, maps, params), apply_maps(x, full, params))


@pytest.mark.parametrize("size", [(1, 1), (7, 13), (64, 64), (100, 130), (135, 240)])
def test_adaptive_avg_pool_equals_torch(size):
    x = torch.rand(2, 5, *size)
    torch.testing.assert_close(adaptive_avg_pool(x, (64, 64)), F.adaptive_avg_pool2d(x, (64, 64)))


def test_published_student_collapses_on_a_bright_image_and_its_teacher_does_not(torch_threads):
    # DICM 57.jpg (input mean 0.58): every entry of the student's colour matrix is negative, so the output
    # is clamped to 1e-8 everywhere. benchmarks/iat_collapse.py counts 20 such images in the standard sets.
    import cv2

    bgr = cv2.imread(str(shared_path("data", "lowlight", "dicm", "57.jpg")))
    rgb = cv2.resize(bgr, (160, 120), interpolation=cv2.INTER_AREA)[:, :, ::-1] / np.float32(255)
    x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
    with torch.no_grad():
        out, _, params = create_model("iat_student", weights="reference", scale_factor=1).enhance_with_maps(x)
        teacher = create_model("iat", weights="reference", scale_factor=1)(x)
    assert x.mean() > 0.5
    assert (params[0, 1:] < 0).all() and out.mean() < 0.02
    assert teacher.mean() > 0.2


def test_student_estimator_exports_to_onnx_with_dynamic_size(tmp_path):
    import onnxruntime as ort

    from llie_core.cli import main

    path = tmp_path / "iat_student.onnx"
    shared_path("weights", "reference")
    assert main(["export", "iat_student", "--weights", "reference", "--graph", "estimator", "-o", str(path)]) == 0
    model = create_model("iat_student", weights="reference")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["llie_model"] == "iat_student" and meta["llie_graph"] == "estimator"
    golden = read_rgb(shared_path("golden", "iat_student", "input_01.png")) / np.float32(255)
    rng = np.random.default_rng(0)
    images = [golden[:135, :240], *(rng.random((*hw, 3), dtype=np.float32) for hw in [(1, 1), (7, 13), (50, 70)])]
    assert_estimator_graph_matches(session, model, images)
