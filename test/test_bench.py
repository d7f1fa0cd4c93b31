"""``llie bench --quick``: the smoke run CI can afford; checks the figures are there and consistent."""

from __future__ import annotations

import json

import pytest

from llie_core.cli import main


def test_quick_bench_writes_consistent_rows(tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "bench"
    assert main(["bench", "--quick", "--models", "gamma,clahe", "-o", str(out)]) == 0
    rows = json.loads((out / "bench.json").read_text())
    assert [r["model"] for r in rows] == ["gamma", "clahe"]
    for row in rows:
        assert row["resolution"] == "640x480" and row["threads"] == 1 and row["frames"] == 5
        assert 0 < row["median_ms"] <= row["p95_ms"]
        assert row["ratio_to_copy"] == pytest.approx(row["median_ms"] / row["copy_ms"], rel=0.05)
        assert row["torch_eager_ms"] is None  # classical methods have no torch path
    assert "median ms" in capsys.readouterr().out


def test_bench_compares_a_curve_model_with_torch(tmp_path):
    pytest.importorskip("torch")
    from conftest import shared_path

    shared_path("weights", "reference", "tiny_dce_student.pth")
    out = tmp_path / "bench"
    assert main(["bench", "--quick", "--models", "tiny_dce", "--backends", "torch", "-o", str(out)]) == 0
    (row,) = json.loads((out / "bench.json").read_text())
    assert row["backend"] == "torch" and row["torch_eager_ms"] > 0
    assert row["speedup_vs_torch"] == pytest.approx(row["torch_eager_ms"] / row["median_ms"], rel=0.05)
    assert row["max_diff_vs_torch"] <= 2  # speed must not change the picture
