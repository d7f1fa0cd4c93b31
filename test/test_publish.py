"""training/publish.py: detection tables and video figures merged from the reports the CLI writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("yaml")

from training.publish import detect_table, detection_figures, video_figures  # noqa: E402


def _detect_report(path: Path, rows: dict[str, float], dark: float = 0.5) -> Path:
    conditions = {
        regime: {
            "rows": {"dark": {"map50": dark, "map50_95": dark / 2}}
            | {r: {"map50": v, "map50_95": v / 2} for r, v in rows.items()}
        }
        for regime in ("none", "heavy")
    }
    path.mkdir(parents=True)
    (path / "report.json").write_text(
        json.dumps({"reference": {"map50": 0.8, "map50_95": 0.6}, "conditions": conditions})
    )
    return path / "report.json"


def test_detection_figures_merge_reports_and_check_targets(tmp_path: Path) -> None:
    ours = _detect_report(tmp_path / "a", {"sgz": 0.7})
    base = _detect_report(tmp_path / "b", {"zero_dce_pp": 0.72, "sgz_published": 0.6})
    table, targets = detection_figures([ours, base])
    assert table["heavy"]["sgz"] == {"ap50": 70.0, "ap50_95": 35.0} and table["none"]["clean"]["ap50"] == 80.0
    met = {(t["target"], t["met"]) for t in targets}
    assert ("heavy: AP50 of sgz >= zero_dce_pp's", False) in met and (
        "none: AP50 of sgz >= sgz_published's",
        True,
    ) in met
    other = _detect_report(tmp_path / "c", {"sgz_published": 0.6}, dark=0.4)  # another seed or split
    with pytest.raises(ValueError, match="dark differs"):
        detection_figures([ours, other])


def test_detect_table_of_one_report_has_clean_dark_and_every_stage(tmp_path: Path) -> None:
    table = detect_table([_detect_report(tmp_path / "a", {"noise_aware_dce": 0.75}, dark=0.7)])
    assert set(table) == {"none", "heavy"}
    assert table["none"] == {
        "clean": {"ap50": 80.0, "ap50_95": 60.0},
        "dark": {"ap50": 70.0, "ap50_95": 35.0},
        "noise_aware_dce": {"ap50": 75.0, "ap50_95": 37.5},
    }


def test_video_figures_recommend_the_smoothing_with_least_flicker(tmp_path: Path) -> None:
    def model(name: str, smoothing: float, out: float) -> dict:
        flicker = {"input": 0.01, "output": out}
        return {
            "model": name,
            "weights": "w",
            "smoothing": smoothing,
            "flicker": flicker,
            "local_flicker": flicker,
            "quality": {"brightness": {"after": 0.3}},
        }

    for folder, s, out in (("ours_s0.3", 0.3, 0.004), ("ours_s0.6", 0.6, 0.006), ("published_s0.6", 0.6, 0.001)):
        models = {"sgz": model("sgz", 0.0, 0.005), f"sgz (smoothing {s})": model("sgz", s, out)}
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "report.json").write_text(json.dumps({"models": models}))
    figures = video_figures(tmp_path)
    assert figures["recommended_smoothing"] == 0.3  # the published run's lower flicker is not ours
    assert figures["flicker_percent"]["ours_s0.6: sgz (smoothing 0.6)"]["flicker_out"] == 0.6


def test_raw_figures_quote_the_raw_detection_runs_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import training.publish as publish

    monkeypatch.setattr(publish, "EVAL_DIR", tmp_path)
    assert "detect" not in publish._raw_figures()
    _detect_report(tmp_path / "raw_detect_mh", {"llpacknet": 0.3, "tiny_dce": 0.6})
    detect = publish._raw_figures()["detect"]
    assert detect["commands"] == [publish.RAW_DETECT_COMMANDS["raw_detect_mh"]]  # only the run that exists
    assert detect["ap_percent"]["heavy"]["llpacknet"] == {"ap50": 30.0, "ap50_95": 15.0}
