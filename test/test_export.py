"""ONNX export: dynamic H and W, onnxruntime output equal to torch within 1/255 after uint8."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from conftest import shared_path
from golden import GOLDEN_PAIRS, read_rgb

from llie_core.cli import main

torch = pytest.importorskip("torch")

from llie_core.models import create_model  # noqa: E402

CASES = [("zero_dce", 1), ("zero_dce_pp", 12), ("tiny_dce", 12), ("tiny_dce", 1)]


def _to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255), 0, 255).astype(np.int32)


@pytest.fixture(scope="module", params=CASES, ids=[f"{n}-s{s}" for n, s in CASES])
def exported(request, tmp_path_factory, synthetic_weights):
    name, scale_factor = request.param
    path = tmp_path_factory.mktemp("export") / f"{name}.onnx"
    weights = str(synthetic_weights(name))
    assert main(["export", name, "--weights", weights, "--scale-factor", str(scale_factor), "-o", str(path)]) == 0
    model = create_model(name, weights=weights, scale_factor=scale_factor)
    return model, ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _compare(model, session, image: np.ndarray) -> int:
    x = image.transpose(2, 0, 1)[None].astype(np.float32)
    enhanced, curves = session.run(None, {"image": x})
    with torch.no_grad():
        ref, ref_curves = model.enhance_with_curves(torch.from_numpy(x))
    assert enhanced.shape == x.shape and curves.shape == tuple(ref_curves.shape)
    return int(np.abs(_to_u8(enhanced) - _to_u8(ref.numpy())).max())


def test_export_matches_torch_on_golden_inputs(exported):
    model, session = exported
    for pair in GOLDEN_PAIRS:
        image = read_rgb(shared_path("golden", "tiny_dce_sf1", f"input_{pair}.png")) / np.float32(255)
        assert _compare(model, session, image) <= 1


@pytest.mark.parametrize("size", [(1, 1), (7, 13), (37, 53), (121, 200), (480, 640)])
def test_export_matches_torch_on_random_sizes(exported, size):
    model, session = exported
    image = np.random.default_rng(sum(size)).random((*size, 3), dtype=np.float32) * 0.4
    assert _compare(model, session, image) <= 1


def test_export_metadata_records_model_and_graph(tmp_path, synthetic_weights):
    path = tmp_path / "e.onnx"
    weights = str(synthetic_weights("zero_dce_pp"))
    assert main(["export", "zero_dce_pp", "--weights", weights, "--graph", "estimator", "-o", str(path)]) == 0
    meta = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    assert meta["llie_model"] == "zero_dce_pp" and meta["llie_graph"] == "estimator" and meta["llie_iterations"] == "8"


def test_export_of_classical_method_is_refused(tmp_path, capsys):
    assert main(["export", "gamma", "-o", str(tmp_path / "g.onnx")]) == 2
    assert "only networks export" in capsys.readouterr().err
