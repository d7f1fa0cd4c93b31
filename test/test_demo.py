"""The README demo: builds a bag, enhances it and writes the report, on generated frames when ../shared is absent."""

from __future__ import annotations

import json

import pytest

from llie_core.cli import main
from llie_core.registry import shared_dir


def test_demo_runs_end_to_end_on_generated_frames(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LLIE_SHARED_DIR", str(tmp_path / "no_shared"))
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--frames", "4", "--models", "gamma,clahe"]) == 0
    assert len(list((out / "generated_frames").glob("*.png"))) == 4
    assert (out / "night_bag_enhanced").is_dir()
    report = json.loads((out / "report" / "report.json").read_text())
    assert report["input"]["frames"] == 4 and report["input"]["size"] == [640, 360]
    # each model as the node runs it by default (smoothing 0.6) and without smoothing
    assert list(report["models"]) == ["gamma", "gamma (smoothing 0.6)", "clahe", "clahe (smoothing 0.6)"]
    assert (out / "report" / "report.html").read_text().count("data:image/png;base64") >= 2
    assert f"report: {out / 'report' / 'report.html'}" in capsys.readouterr().out


def test_demo_detection_step_on_generated_frames(tmp_path, monkeypatch, capsys):
    """Without the labelled road images the benchmark step runs on the generated frames as they are."""
    yolo = shared_dir() / "models" / "detect" / "yolov8n.pt"
    if not yolo.is_file():
        pytest.skip(f"needs {yolo} (../shared)")
    monkeypatch.setenv("LLIE_SHARED_DIR", str(tmp_path / "no_shared"))
    out = tmp_path / "demo"
    args = ["demo", "-o", str(out), "--frames", "3", "--models", "gamma", "--detector", str(yolo)]
    assert main([*args, "--detect-models", "gamma", "--detect-images", "2"]) == 0
    report = json.loads((out / "detect_report" / "report.json").read_text())
    assert not report["dataset"]["labelled"] and report["dataset"]["images"] == 2
    assert list(report["conditions"]["input"]["rows"]) == ["gamma"]
    assert f"detection benchmark: {out / 'detect_report' / 'report.html'}" in capsys.readouterr().out
    # Without a detector the step is skipped, saying why.
    assert main(["demo", "-o", str(tmp_path / "d2"), "--frames", "2", "--models", "gamma"]) == 0
    assert "detection benchmark skipped: no detector" in capsys.readouterr().out
