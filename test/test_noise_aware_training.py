"""Detection-aware training (training/noise_aware.py): config checks, crops and targets, a smoke run with yolov8n."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
cv2 = pytest.importorskip("cv2")
pytest.importorskip("ultralytics")

from conftest import shared_path  # noqa: E402

from training.config import ConfigError, config_from_dict  # noqa: E402
from training.noise_aware import crop_targets, crop_window, sample_regime  # noqa: E402


def _config(tmp_path: Path, **extra) -> dict:
    look = tmp_path / "look"
    look.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        cv2.imwrite(str(look / f"{i}.png"), rng.integers(0, 60, (48, 48, 3)).astype(np.uint8))
    cfg = {
        "name": "smoke",
        "model": "noise_aware_dce",
        "mode": "detection_aware",
        "epochs": 2,
        "batch_size": 2,
        "scale_factor": 4,
        "device": "cpu",
        "out_dir": str(tmp_path / "runs"),
        "max_iterations_per_epoch": 2,
        "data": {"root": str(look), "image_size": 32, "min_crop_fraction": 1.0},
        "distill": {"teacher_weights": "llie_core/weights/zero_dce_pp.pth", "stage1_epochs": 1},
        "detect": {"crop": 64, "imgsz": 128, "batch_size": 2, "workers": 0},
    }
    for key, value in extra.items():
        cfg[key] = {**cfg.get(key, {}), **value} if isinstance(value, dict) else value
    return cfg


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"model": "tiny_dce"}, "'detection_aware' trains noise_aware_dce"),
        ({"mode": "distill"}, "'detection_aware' trains noise_aware_dce"),
        ({"detect": {"part": "eval"}}, "never trained on"),
        ({"detect": {"crop": 100}}, "multiple of 32"),
        ({"detect": {"targets": "boxes"}}, "detect.targets"),
        ({"detect": {"full_well_range": [400.0, 300.0]}}, "full_well_range"),
    ],
)
def test_config_errors(tmp_path: Path, patch: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_dict(_config(tmp_path, **patch))


def test_crop_targets_clip_shift_and_drop() -> None:
    targets = np.array([[2, 10, 10, 50, 50], [7, 90, 90, 200, 200], [0, 300, 300, 330, 330]], np.float32)
    kept = crop_targets(targets, y=40, x=40, crop=128)
    # box 0: 10..50 shifted to -30..10, 6% inside: dropped; box 1 inside: shifted; box 2 outside: dropped
    np.testing.assert_allclose(kept, [[7, 50, 50, 128, 128]])
    rng = np.random.default_rng(0)
    y, x = crop_window(targets[:, 1:], (640, 480), 320, rng)
    assert 0 <= y <= 320 and 0 <= x <= 160


def test_sampled_regimes_span_the_configured_ranges() -> None:
    from training.config import DetectConfig

    d = DetectConfig()
    rng = np.random.default_rng(1)
    regimes = [sample_regime(rng, d) for _ in range(400)]
    clean = [r for r in regimes if r.full_well is None]
    assert 0.08 < len(clean) / len(regimes) < 0.25
    wells = np.array([r.full_well for r in regimes if r.full_well is not None])
    assert d.full_well_range[0] <= wells.min() and wells.max() <= d.full_well_range[1]
    assert (wells < 1000).mean() > 0.2  # log-uniform: heavy regimes are common
    assert all(d.ratio_range[0] <= r.ratio <= d.ratio_range[1] for r in regimes)


def test_smoke_run_trains_towards_the_detector(tmp_path: Path) -> None:
    detector = shared_path("models", "detect", "yolov8n.pt")
    source = shared_path("data", "detect", "highway_dev", "images")
    user = tmp_path / "user"  # a plain folder: the detector's clean-frame detections are the targets
    user.mkdir()
    for name in ("train_0008.jpg", "train_0009.jpg"):
        shutil.copy(source / name, user / name)
    from llie_core.models import create_model
    from training.noise_aware import train_detection_aware

    cfg = config_from_dict(_config(tmp_path, detect={"detector": str(detector), "images": str(user), "part": "all"}))
    run_dir = train_detection_aware(cfg, progress=False)
    with open(run_dir / "loss_log.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["stage"] for r in rows] == ["1", "1", "2", "2"]
    assert all(float(r["det"]) == 0 for r in rows[:2]) and all(float(r["det"]) > 0 for r in rows[2:])
    assert (run_dir.parent / "clean_targets.json").is_file()
    model = create_model("noise_aware_dce", weights=run_dir / "model.pth", scale_factor=4)
    x = torch.rand(1, 3, 32, 48) * 0.2
    with torch.no_grad():
        assert model(x).shape == x.shape
