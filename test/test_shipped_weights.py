"""The weights shipped in llie_core/weights: cards match files, strict load, ONNX agrees with torch, no torch needed."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest
import yaml

from llie_core import create_enhancer
from llie_core.registry import list_specs
from llie_core.synthetic import night_scene

CURVE_MODELS = [s for s in list_specs("curve") if s.default_weights(".pth").is_file()]
pytestmark = pytest.mark.skipif(not CURVE_MODELS, reason="no weights shipped in llie_core/weights")


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("spec", CURVE_MODELS, ids=lambda s: s.name)
def test_card_matches_the_files(spec):
    card = yaml.safe_load(spec.default_weights(".yaml").read_text())
    assert card["name"] == spec.name and card["params"] == spec.params
    assert card["sha256"] == _sha256(spec.default_weights(".pth"))
    assert card["onnx"]["sha256"] == _sha256(spec.default_weights(".onnx"))
    assert card["provenance"] and card["command"]


@pytest.mark.parametrize("spec", CURVE_MODELS, ids=lambda s: s.name)
def test_shipped_onnx_agrees_with_shipped_checkpoint(spec):
    pytest.importorskip("torch")
    frame = night_scene(180, 320, seed=1)
    ort_out = create_enhancer(spec.name, backend="onnxruntime").enhance(frame)
    torch_out = create_enhancer(spec.name, backend="torch").enhance(frame)
    assert np.abs(ort_out.astype(int) - torch_out).max() <= 1
    assert ort_out.mean() > frame.mean() + 20  # a trained model brightens a night scene


@pytest.mark.parametrize("spec", CURVE_MODELS, ids=lambda s: s.name)
def test_shipped_onnx_has_no_negligible_weights(spec):
    """Weights below NEGLIGIBLE breed subnormal arithmetic (our zero_dce_pp estimator ran 25x slower with them)."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from llie_core.models.checkpoints import NEGLIGIBLE

    model = onnx.load(str(spec.default_weights(".onnx")))
    arrays = [numpy_helper.to_array(t) for t in model.graph.initializer]
    tiny = sum(int(((a != 0) & (np.abs(a) < NEGLIGIBLE)).sum()) for a in arrays if a.dtype == np.float32)
    assert arrays  # the exporter shares identical (e.g. all-zero) tensors, so counts differ from spec.params
    assert tiny == 0


def test_default_enhancer_needs_no_torch():
    code = """
import sys
from llie_core import create_enhancer
from llie_core.synthetic import night_scene
enhancer = create_enhancer("tiny_dce")
frame = night_scene(120, 160)
assert enhancer.backend == "onnxruntime" and enhancer.enhance(frame).mean() > frame.mean()
assert "torch" not in sys.modules
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


RAW_MODELS = [s for s in list_specs("raw") if s.default_weights(".pth").is_file()]


@pytest.mark.parametrize("spec", RAW_MODELS, ids=lambda s: s.name)
def test_raw_card_matches_the_files(spec):
    card = yaml.safe_load(spec.default_weights(".yaml").read_text())
    assert card["name"] == spec.name and card["params"] == spec.params
    assert card["sha256"] == _sha256(spec.default_weights(".pth"))
    assert card["onnx"]["sha256"] == _sha256(spec.default_weights(".onnx")) and "int8" in card["onnx"]["precision"]
    assert card["provenance"] and card["command"] and card["evaluation"]["targets"]


@pytest.mark.parametrize("spec", RAW_MODELS, ids=lambda s: s.name)
def test_shipped_int8_raw_graph_agrees_with_the_checkpoint_and_restores(spec):
    """The int8 graph stays within a few codes (and 1 dB) of the fp32 checkpoint and beats the naive pipeline."""
    pytest.importorskip("torch")
    from llie_core.amplification import auto_expose
    from llie_core.metrics import psnr
    from llie_core.noise import keyed_rng, to_raw
    from llie_core.raw_eval import RAW_REGIMES, evaluation_camera, naive

    rng = keyed_rng(0, "shipped", spec.name)
    reference = auto_expose(np.ascontiguousarray(night_scene(160, 224, seed=2, exposure=1.0)[:, :, ::-1]))
    raw = to_raw(reference, RAW_REGIMES["raw100"], rng, evaluation_camera(rng), "GRBG")
    int8 = create_enhancer(spec.name, backend="onnxruntime", threads=1).enhance(raw, rgb=True)
    fp32 = create_enhancer(spec.name, backend="torch", threads=1).enhance(raw, rgb=True)
    diff = np.abs(int8.astype(int) - fp32)
    assert diff.mean() < 5.0 and np.percentile(diff, 99) <= 16
    assert psnr(int8, reference) > psnr(fp32, reference) - 1.0
    assert psnr(int8, reference) > psnr(naive(raw), reference) + 2.0
