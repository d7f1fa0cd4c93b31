"""The Zero-DCE family modules: topology (parameter counts), sizes, scale factor rule, checkpoints."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from conftest import shared_path  # noqa: E402

from llie_core.models import CheckpointError, create_model  # noqa: E402
from llie_core.models.checkpoints import NEGLIGIBLE, read_state_dict  # noqa: E402
from llie_core.registry import get_spec, list_specs  # noqa: E402

PUBLISHED_PARAMS = {"zero_dce": 79_416, "zero_dce_pp": 10_561, "sgz": 10_561, "tiny_dce": 161}


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS))
def test_parameter_count_matches_published_and_registry(name):
    model = create_model(name)
    count = sum(p.numel() for p in model.parameters())
    assert count == PUBLISHED_PARAMS[name] == get_spec(name).params


def test_registry_lists_curve_models_with_counts():
    specs = {s.name: s for s in list_specs("curve")}
    assert set(specs) == set(PUBLISHED_PARAMS)
    assert {n: s.params for n, s in specs.items()} == PUBLISHED_PARAMS


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS))
@pytest.mark.parametrize("size", [(1, 1), (7, 13), (13, 1), (37, 53), (252, 252)])
@pytest.mark.parametrize("scale_factor", [1, 12])
def test_any_size_gives_same_shape_and_valid_curves(name, size, scale_factor):
    torch.manual_seed(0)
    model = create_model(name, scale_factor=scale_factor)
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        y, curves = model.enhance_with_curves(x)
    spec = get_spec(name)
    assert y.shape == x.shape
    assert curves.shape == (2, spec.curve_channels, *size)
    assert torch.isfinite(y).all()
    assert curves.abs().max() <= 1.0


def test_4k_frame_runs_at_scale_factor_12():
    model = create_model("tiny_dce", scale_factor=12)
    x = torch.rand(1, 3, 2160, 3840)
    with torch.no_grad():
        assert model(x).shape == x.shape


def test_size_rule_equals_published_crop_on_multiples_of_s():
    # The published code downsamples with scale_factor=1/s and upsamples by s; on multiples of s
    # our size-based rule must give exactly that.
    torch.manual_seed(1)
    model = create_model("zero_dce_pp", scale_factor=12)
    x = torch.rand(1, 3, 96, 144)
    with torch.no_grad():
        low = torch.nn.functional.interpolate(x, scale_factor=1 / 12, mode="bilinear")
        published = torch.nn.UpsamplingBilinear2d(scale_factor=12)(model.estimate(low))
        assert torch.equal(model.curves(x), published)


def test_scale_factor_must_be_positive():
    with pytest.raises(ValueError, match="scale_factor"):
        create_model("tiny_dce", scale_factor=0)


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="valid names: .*tiny_dce.*zero_dce"):
        create_model("zero_dce_ppp")


def test_unknown_option_is_an_error():
    with pytest.raises(TypeError, match="unknown options"):
        create_model("tiny_dce", scale=3)


REFERENCE_FOR = {
    "zero_dce": ["zero_dce_official.pth", "zero_dce_bsun0802.pth"],
    "zero_dce_pp": ["zero_dce_pp_official.pth", "tiny_dce_teacher_zero_dce_pp.pth", "sgz.pth"],
    "sgz": ["sgz.pth"],
    "tiny_dce": ["tiny_dce_student.pth"],
}


@pytest.mark.parametrize(("name", "file"), [(n, f) for n, files in REFERENCE_FOR.items() for f in files])
def test_reference_checkpoints_load_strictly_and_unchanged(name, file):
    path = shared_path("weights", "reference", file)
    raw = read_state_dict(path)
    model = create_model(name, weights=path)
    loaded = model.state_dict()
    assert len(loaded) == len(raw)
    for key, value in raw.items():
        ours = loaded[key if key in loaded else "e_" + key]
        # unchanged except negligible weights, which are flushed to zero
        expected = torch.where(value.abs() < NEGLIGIBLE, torch.zeros_like(value), value)
        assert torch.equal(ours, expected), key


def test_negligible_weights_are_flushed():
    path = shared_path("weights", "reference", "zero_dce_official.pth")
    raw = read_state_dict(path)
    negligible = sum(int(((v != 0) & (v.abs() < NEGLIGIBLE)).sum()) for v in raw.values())
    assert negligible > 20000  # the published file has many, most of them subnormal (24% of its weights)
    model = create_model("zero_dce", weights=path)
    left = sum(int(((p != 0) & (p.abs() < NEGLIGIBLE)).sum()) for p in model.parameters())
    assert left == 0


def test_both_zero_dce_key_layouts_give_the_same_model(tmp_path):
    official = read_state_dict(shared_path("weights", "reference", "zero_dce_official.pth"))
    renamed = {k.replace("e_conv", "conv"): v for k, v in official.items()}
    torch.save(renamed, tmp_path / "renamed.pth")
    a = create_model("zero_dce", weights="reference")
    b = create_model("zero_dce", weights=tmp_path / "renamed.pth")
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(a(x), b(x))


def test_checkpoint_errors_name_missing_unexpected_and_wrong_shapes(tmp_path):
    state = create_model("tiny_dce").state_dict()
    state.pop("e_conv3.point_conv.bias")
    state["extra.weight"] = torch.zeros(1)
    state["e_conv1.point_conv.weight"] = torch.zeros(5, 3, 1, 1)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError) as info:
        create_model("tiny_dce", weights=tmp_path / "bad.pth")
    message = str(info.value)
    assert "missing keys ['e_conv3.point_conv.bias']" in message
    assert "unexpected keys ['extra.weight']" in message
    assert "e_conv1.point_conv.weight: checkpoint (5, 3, 1, 1) vs model (4, 3, 1, 1)" in message
    assert "bad.pth" in message


def test_checkpoint_of_another_model_is_rejected():
    with pytest.raises(CheckpointError, match=r"unexpected keys \['e_conv4.*; wrong shapes \['e_conv1"):
        create_model("tiny_dce", weights=shared_path("weights", "reference", "zero_dce_pp_official.pth"))


class _Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"e_conv1.weight": _Payload()}, path)
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        create_model("tiny_dce", weights=path)


def test_missing_checkpoint_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.pth"):
        create_model("tiny_dce", weights=tmp_path / "nothere.pth")


def test_sgz_is_zero_dce_pp_with_its_own_reference_weights():
    sgz = create_model("sgz", weights="reference")
    pp = create_model("zero_dce_pp", weights=shared_path("weights", "reference", "sgz.pth"))
    assert sgz.scale_factor == 12 and get_spec("sgz").reference_weights == "sgz.pth"
    assert sgz.state_dict().keys() == pp.state_dict().keys()
    x = torch.rand(1, 3, 48, 60, generator=torch.Generator().manual_seed(0)) * 0.3
    with torch.no_grad():
        assert torch.equal(sgz(x), pp(x))
