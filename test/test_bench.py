"""``llie bench --quick``: the smoke run CI can afford; checks the figures are there and consistent."""

from __future__ import annotations

import json

import numpy as np
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


def test_bench_times_the_parts_of_a_network_and_a_student_against_its_teacher(tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "bench"
    args = ["bench", "--models", "tiny_dce,zero_dce_pp,gamma", "--backends", "torch", "--resolutions", "256x256"]
    assert main([*args, "--threads", "1", "--frames", "3", "--eager-frames", "1", "--no-eager", "-o", str(out)]) == 0
    rows = {r["model"]: r for r in json.loads((out / "bench.json").read_text())}
    for name in ("tiny_dce", "zero_dce_pp"):
        assert rows[name]["scale_factor"] == 12 and rows[name]["estimate_ms"] > 0 and rows[name]["apply_ms"] > 0
    assert rows["gamma"]["estimate_ms"] is None and rows["gamma"]["scale_factor"] is None
    (ratio,) = json.loads((out / "ratios.json").read_text())
    assert (ratio["student"], ratio["teacher"], ratio["resolution"]) == ("tiny_dce", "zero_dce_pp", "256x256")
    expected = rows["zero_dce_pp"]["median_ms"] / rows["tiny_dce"]["median_ms"]
    assert ratio["engine"] == pytest.approx(expected, rel=0.01) and ratio["torch_eager"] is None
    assert "tiny_dce : zero_dce_pp" in capsys.readouterr().out


def test_time_budget_stops_a_slow_series_after_three_frames():
    import time

    from llie_core.bench import MIN_FRAMES, time_per_frame

    calls = []

    def slow(frame):
        calls.append(frame)
        time.sleep(0.02)

    times = time_per_frame(slow, list(range(20)), warmup=2, budget_s=0.01)
    assert len(times) == MIN_FRAMES == 3 and len(calls) == 1 + 3  # one warm-up call: it took over a tenth
    assert len(time_per_frame(lambda f: None, list(range(20)), budget_s=0.01)) == 20
    # CPU time leaves out the waits (here a sleep; on a shared machine, the waits for a core)
    cpu: list[float] = []
    times = time_per_frame(slow, list(range(4)), warmup=0, cpu_ms=cpu)
    assert len(cpu) == len(times) == 4 and all(c < t / 2 for c, t in zip(cpu, times, strict=True))


def test_the_noise_aware_model_gets_rows_on_noisy_frames(tmp_path, capsys):
    # its time depends on the frame's noise (the guide mix): one row per --noise regime, with the frames' sigma and
    # guide mix; other models get none
    from llie_core.kernels import guide_mix

    out = tmp_path / "bench"
    args = ["bench", "--quick", "--models", "noise_aware_dce,tiny_dce", "--no-eager", "-o", str(out)]
    assert main([*args, "--noise", "heavy", "very_heavy", "mild=k:4,fw:4000,read:1"]) == 0
    rows = json.loads((out / "bench.json").read_text())
    assert [(r["model"], r["noise"]) for r in rows] == [
        ("noise_aware_dce", ""),
        ("noise_aware_dce", "heavy"),
        ("noise_aware_dce", "very_heavy"),
        ("noise_aware_dce", "mild"),
        ("tiny_dce", ""),
    ]
    clean, heavy, very_heavy, mild = rows[:4]
    assert clean["noise_sigma"] < mild["noise_sigma"] < heavy["noise_sigma"] < very_heavy["noise_sigma"]
    for row in rows[:4]:
        assert row["guide_mix"] == pytest.approx(guide_mix(row["noise_sigma"]), abs=0.01)
        assert row["frames"] == 5 and row["median_ms"] > 0 and row["estimate_ms"] > 0 and row["apply_ms"] > 0
        assert row["copy_ms"] == clean["copy_ms"]  # the same frame size: the copy baseline of the run
    assert rows[4]["noise_sigma"] is None and rows[4]["guide_mix"] is None
    table = capsys.readouterr().out
    assert f"heavy ({heavy['noise_sigma']:.2f}, {heavy['guide_mix']:.2f})" in table and "darkened" in table
    assert main([*args, "--noise"]) == 0
    assert [r["noise"] for r in json.loads((out / "bench.json").read_text())] == ["", ""]
    assert main([*args, "--noise", "loud"]) == 2
    assert "unknown noise regime 'loud'" in capsys.readouterr().err


def test_noisy_bench_frames_are_seeded_draws_of_the_first_frame():
    from llie_core.bench import NOISY_DRAWS, NOISY_REGIMES, bench_frames, bench_noisy_frames
    from llie_core.engine.estimate import frame_noise_sigma

    regime = NOISY_REGIMES["heavy"]
    frames, source = bench_noisy_frames(64, 48, NOISY_DRAWS + 2, regime)
    again, _ = bench_noisy_frames(64, 48, 3, regime)
    assert len(frames) == NOISY_DRAWS + 2 and frames[0].shape == (48, 64, 3) and frames[0].dtype == np.uint8
    assert all(np.array_equal(a, b) for a, b in zip(frames, again, strict=False))  # seeded
    assert not np.array_equal(frames[0], frames[1]) and np.array_equal(frames[NOISY_DRAWS], frames[0])  # cycled
    (first,), _ = bench_frames(64, 48, 1)
    assert frames[0].mean() < first.mean() and frame_noise_sigma(frames[0], True) > frame_noise_sigma(first, True)
    assert regime.describe() in source
