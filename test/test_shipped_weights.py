"""The weights shipped in llie_core/weights: cards match files, strict load, ONNX agrees with torch, no torch needed."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from llie_core import create_enhancer
from llie_core.registry import list_specs
from llie_core.synthetic import night_scene

# Every network with shipped weights: the curve models, the noise-aware DCE and llie's iat_student.
# RAW models take mosaics: their own tests below.
NETWORKS = [s for s in list_specs() if s.kind not in ("classical", "raw") and s.default_weights(".pth").is_file()]
pytestmark = pytest.mark.skipif(not NETWORKS, reason="no weights shipped in llie_core/weights")


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("spec", NETWORKS, ids=lambda s: s.name)
def test_card_matches_the_files(spec):
    card = yaml.safe_load(spec.default_weights(".yaml").read_text())
    assert card["name"] == spec.name and card["params"] == spec.params
    assert card["sha256"] == _sha256(spec.default_weights(".pth"))
    assert card["onnx"]["sha256"] == _sha256(spec.default_weights(".onnx"))
    assert card["provenance"] and card["command"]


@pytest.mark.parametrize("spec", NETWORKS, ids=lambda s: s.name)
def test_shipped_onnx_agrees_with_shipped_checkpoint(spec):
    pytest.importorskip("torch")
    frame = night_scene(180, 320, seed=1)
    ort_out = create_enhancer(spec.name, backend="onnxruntime").enhance(frame)
    torch_out = create_enhancer(spec.name, backend="torch").enhance(frame)
    assert np.abs(ort_out.astype(int) - torch_out).max() <= 1
    assert ort_out.mean() > frame.mean() + 20  # a trained model brightens a night scene


@pytest.mark.parametrize("spec", NETWORKS, ids=lambda s: s.name)
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
from pathlib import Path
from llie_core import create_enhancer
from llie_core.synthetic import night_scene
for enhancer in (create_enhancer(), create_enhancer("tiny_dce")):  # the default model, and a curve model
    frame = night_scene(120, 160)
    assert enhancer.backend == "onnxruntime" and enhancer.enhance(frame).mean() > frame.mean()
assert create_enhancer().name == "noise_aware_dce"
assert "torch" not in sys.modules
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_shipped_sgz_is_fine_tuned_zero_dce_pp_and_its_card_names_the_guide():
    torch = pytest.importorskip("torch")
    from conftest import shared_path

    from llie_core.registry import get_spec

    sgz, pp = get_spec("sgz"), get_spec("zero_dce_pp")
    if not (sgz.default_weights(".yaml").is_file() and pp.default_weights(".pth").is_file()):
        pytest.skip("sgz or zero_dce_pp weights not shipped")
    ours = torch.load(sgz.default_weights(".pth"), map_location="cpu", weights_only=True)
    start = torch.load(pp.default_weights(".pth"), map_location="cpu", weights_only=True)
    assert ours.keys() == start.keys() and any(not torch.equal(ours[k], start[k]) for k in ours)
    card = yaml.safe_load(sgz.default_weights(".yaml").read_text())
    assert card["training"]["mode"] == "sgz" and str(card["losses"]["spa_neighbours"]).startswith("8")
    if mix := card["training"].get("blend"):  # shipped as a weight average: the card's command ends with the blend
        assert card["command"].endswith(mix["command"]) and mix["trained_sha256"] != card["sha256"]
        assert mix["with_sha256"] == _sha256(pp.default_weights(".pth"))
    guide = card["losses"]["semantic"]["guide"]
    assert guide["sha256"] == _sha256(shared_path("models", "detect", Path(guide["detector"]).name))
    # the NIQE targets as the figures give them, one per evaluated set
    niqe = [t for t in card["evaluation"]["targets"] if t["target"].startswith("NIQE")]
    assert len(niqe) == len(card["evaluation"]["figures"]["ours_s12"]) > 1
    assert all(t["met"] == (abs(t["ours"] - t["published"]) <= 0.1) for t in niqe)


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
