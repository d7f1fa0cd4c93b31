"""training/publish.py: detection tables and video figures merged from the reports the CLI writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("yaml")

from training.publish import detect_table, detection_figures, noise_aware_figures, video_figures  # noqa: E402


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


def test_noise_aware_figures_keep_the_sections_not_re_measured(tmp_path: Path) -> None:
    path = _detect_report(tmp_path / "detect_srgb", {"noise_aware_dce": 0.75, "adaptive_denoise": 0.8}, dark=0.7)
    report = json.loads(path.read_text())
    report["conditions"]["moderate"] = report["conditions"]["none"]  # the target checks read all three regimes
    path.write_text(json.dumps(report))
    niqe = {"lol_eval15_low": 6.0, "dicm": 3.95}
    kept = {
        "detect_ap_srgb_camera": {"none": {}},  # re-measured: replaced
        "quality_native_size": {"input": {"lol_eval15_low": 6.5}, "noise_aware_dce": niqe, "zero_dce_pp": niqe},
        "bench_1920x1080_1_thread_ms": {"noise_aware_dce": {"median_ms": 13.0}},
    }
    figures, targets = noise_aware_figures(tmp_path, kept)
    assert list(figures) == ["detect_ap_srgb_camera", "quality_native_size", "bench_1920x1080_1_thread_ms"]
    assert figures["detect_ap_srgb_camera"]["heavy"]["noise_aware_dce"]["ap50"] == 75.0
    assert figures["quality_native_size"] == kept["quality_native_size"]
    met = {t["target"]: t["met"] for t in targets}
    assert (
        met["moderate AP50 >= dark + 2"] is True
        and met["heavy AP50 above the best plain filter (gaussian_blur, adaptive_denoise)"] is False
    )
    assert (
        met["NIQE on lol_eval15_low below the input's"] is True and met["NIQE on dicm at most 0.1 above zero_dce_pp's"]
    )
    assert met["1080p BGR, one thread: median <= 12 ms"] is False
    assert noise_aware_figures(tmp_path)[0].keys() == {"detect_ap_srgb_camera"}


def test_noise_aware_bench_figures_and_targets_cover_every_noise_band(tmp_path: Path) -> None:
    # llie bench's rows: the default on the bench frames and on noisy ones (one per regime), tiny_dce on the former
    def row(model: str, ms: float, noise: str = "", sigma: float | None = None, mix: float | None = None) -> dict:
        times = {"median_ms": ms, "p95_ms": ms + 1, "estimate_ms": 1.5, "apply_ms": ms - 2, "copy_ms": 0.4}
        return {"model": model, **times, "noise": noise, "noise_sigma": sigma, "guide_mix": mix, "load_average": 0.9}

    rows = [
        row("noise_aware_dce", 7.0, "", 0.15, 0.0),
        row("noise_aware_dce", 12.5, "heavy", 5.6, 0.53),
        row("noise_aware_dce", 10.0, "very_heavy", 10.2, 1.0),
        row("tiny_dce", 3.0),
    ]
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "bench.json").write_text(json.dumps(rows))
    figures, targets = noise_aware_figures(tmp_path)
    bench = figures["bench_1920x1080_1_thread_ms"]
    assert list(bench) == ["noise_aware_dce", "noise_aware_dce heavy", "noise_aware_dce very_heavy", "tiny_dce"]
    assert bench["noise_aware_dce heavy"]["noise_sigma"] == 5.6 and bench["noise_aware_dce heavy"]["guide_mix"] == 0.53
    assert "noise_sigma" not in bench["tiny_dce"] and bench["tiny_dce"]["median_ms"] == 3.0
    speed = {t["target"]: t for t in targets}
    assert [t["met"] for t in targets] == [True, False, True]  # tiny_dce is not the default: no target
    assert speed["1080p BGR, one thread: median <= 12 ms (heavy frames)"]["guide_mix"] == 0.53
    assert speed["1080p BGR, one thread: median <= 12 ms"]["ours"] == 7.0


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
    assert detect["commands"] == [publish.RAW_DETECT_COMMANDS["llpacknet"]["raw_detect_mh"]]  # only the run that exists
    assert detect["ap_percent"]["heavy"]["llpacknet"] == {"ap50": 30.0, "ap50_95": 15.0}


def test_a_distilled_raw_models_figures_and_teacher_are_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """llpacknet_fast: its reports in runs/eval/llpacknet_fast (not llpacknet's), its chain from the teacher's card."""
    import yaml

    import training.publish as publish
    from training.config import load_config

    monkeypatch.setattr(publish, "EVAL_DIR", tmp_path)
    _detect_report(tmp_path / "raw_detect", {"llpacknet": 0.3, "tiny_dce": 0.6})  # the teacher's run, not its own
    assert publish._raw_figures("llpacknet_fast") == {}
    _detect_report(tmp_path / "llpacknet_fast" / "raw_detect", {"llpacknet_fast": 0.2, "tiny_dce": 0.6})
    detect = publish._raw_figures("llpacknet_fast")["detect"]
    assert detect["commands"] == [publish.RAW_DETECT_COMMANDS["llpacknet_fast"]["raw_detect"]]
    assert detect["ap_percent"]["heavy"]["llpacknet_fast"] == {"ap50": 20.0, "ap50_95": 10.0}
    teacher_card = publish.WEIGHTS / "llpacknet.yaml"
    if not teacher_card.is_file():
        pytest.skip("no shipped llpacknet card (the teacher)")
    record = publish._teacher_record(load_config(publish.CONFIGS / "llpacknet_fast.yaml"))
    card = yaml.safe_load(teacher_card.read_text())
    assert record["model"] == "llpacknet" and record["command"] == card["command"]
    assert record["sha256"] == publish.sha256_of(publish.WEIGHTS / "llpacknet.pth")


def test_validation_figures_quote_each_candidates_metered_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import training.publish as publish
    from llie_core.raw_eval import ROWS

    monkeypatch.setattr(publish, "EVAL_DIR", tmp_path)
    assert publish._validation_figures("llpacknet_road") is None
    labels = [row.format(model="llpacknet", enhancer="tiny_dce") for row in ROWS]
    for candidate, psnr in (("llpacknet_finetune", 22.0), ("llpacknet_road", 23.0)):
        rows = {label: {"psnr": 10.0 + i, "ssim": 0.1 * i} for i, label in enumerate(labels)} | {
            "llpacknet": {"psnr": psnr, "ssim": 0.6}
        }
        regime = {"rows": rows, "amplification": {"within_25pct": 0.96}}
        (tmp_path / "validation_llpacknet_road" / candidate).mkdir(parents=True)
        report = {"columns": ["reference", *labels], "regimes": {"raw100": regime}}
        (tmp_path / "validation_llpacknet_road" / candidate / "report.json").write_text(json.dumps(report))
    figures = publish._validation_figures("llpacknet_road")
    assert figures["candidates"]["llpacknet_road"]["raw100"] == {
        "psnr": 23.0,
        "ssim": 0.6,
        "naive_psnr": 10.0,
        "within_25pct": 0.96,
    }
    assert figures["candidates"]["llpacknet_finetune"]["raw100"]["psnr"] == 22.0


def test_a_staged_card_records_each_stage_and_keeps_the_sections_not_re_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import yaml
    from conftest import shared_path

    import training.publish as publish
    from training.engine import sha256_of

    shared_path("weights", "reference", "iat_lol_v2.pth")  # the card names the teacher's checksum
    runs, weights = tmp_path / "runs", tmp_path / "weights"
    monkeypatch.setattr(publish, "RUNS", runs)
    monkeypatch.setattr(publish, "WEIGHTS", weights)
    weights.mkdir()
    pth = shutil.copyfile(publish.REPO_ROOT / "llie_core" / "weights" / "iat_student.pth", weights / "iat_student.pth")
    loss = {"total": 0.1, "out_l1": 0.05}
    first = {"epochs": 8, "iterations": 2000, "wall_time_s": 1.0, "model_sha256": "a" * 64, "final_loss": loss}
    last = {
        **first,
        "epochs": 1,
        "iterations": 100,
        "model_sha256": sha256_of(pth),
        "training_images": 2002,
        "device": "cpu",
        "threads": 1,
        "torch": "x",
    }
    stages = ("iat_student", "iat_student_look", "iat_student_detail")
    for stage, summary in zip(stages, (first, first | {"model_sha256": "b" * 64}, last), strict=True):
        (runs / stage).mkdir(parents=True)
        (runs / stage / "summary.yaml").write_text(yaml.safe_dump(summary | {"command": f"train {stage}"}))
    previous = {"evaluation": {"figures": {"speed (same graph)": {"ms": 23.8}}}}
    (weights / "iat_student.yaml").write_text(yaml.safe_dump(previous))

    card = yaml.safe_load(publish.write_card("iat_student", {}).read_text())
    assert card["command"] == "train iat_student && train iat_student_look && train iat_student_detail"
    assert card["training"]["stages"]["iat_student"]["model_sha256"] == "a" * 64
    assert card["training"]["stages"]["iat_student_look"]["model_sha256"] == "b" * 64
    assert (card["training"]["epochs"], card["training"]["iterations"]) == (1, 100)
    assert card["evaluation"]["figures"] == previous["evaluation"]["figures"]
    assert card["evaluation"]["figures_kept_from_the_card_before"] == ["speed (same graph)"]
    assert "zero_dce_pp" in card["losses"]["look"]
    assert "zero_dce_pp" in card["losses"]["look_detail"]


def test_blend_run_averages_the_trained_model_and_blends_again_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = pytest.importorskip("torch")
    import yaml

    import training.publish as publish
    from training.engine import sha256_of

    monkeypatch.setattr(publish, "RUNS", tmp_path)
    run = tmp_path / "sgz"
    run.mkdir()
    torch.save({"w": torch.tensor([1.0, 2.0]), "n": torch.tensor([3])}, run / "model.pth")
    torch.save({"w": torch.tensor([3.0, -2.0]), "n": torch.tensor([5])}, tmp_path / "start.pth")
    (run / "summary.yaml").write_text(yaml.safe_dump({"command": "train sgz", "model_sha256": "x"}))

    for alpha, expected in ((0.5, [2.0, 0.0]), (0.25, [1.5, 1.0])):  # the second starts from the trained model
        out = publish.blend_run("sgz", tmp_path / "start.pth", alpha)
        state = torch.load(out, weights_only=True)
        assert state["w"].tolist() == expected and state["n"].tolist() == [3]  # integer buffers stay the trained's
    summary = yaml.safe_load((run / "summary.yaml").read_text())
    assert summary["model_sha256"] == sha256_of(out) and summary["blend"]["alpha"] == 0.25
    assert summary["blend"]["trained_sha256"] == sha256_of(run / "model_trained.pth")
    assert torch.load(run / "model_trained.pth", weights_only=True)["w"].tolist() == [1.0, 2.0]
    torch.save({"v": torch.tensor([0.0])}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="not the same network"):
        publish.blend_run("sgz", tmp_path / "other.pth", 0.5)
    with pytest.raises(ValueError, match="alpha"):
        publish.blend_run("sgz", tmp_path / "start.pth", 1.5)


def test_an_earlier_blended_stage_gives_the_card_its_blend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    import training.publish as publish

    monkeypatch.setattr(publish, "RUNS", tmp_path)
    (tmp_path / "first").mkdir()
    summary = {"command": "train first", "epochs": 5, "model_sha256": "b", "final_loss": {"total": 1.0}}
    (tmp_path / "first" / "summary.yaml").write_text(yaml.safe_dump(summary))
    assert publish._earlier_stage("first", {})["command"] == "train first" and publish._blend_text(None) == ""
    mix = {"command": "blend first --alpha 0.25", "alpha": 0.25, "with": "start.pth"}
    (tmp_path / "first" / "summary.yaml").write_text(yaml.safe_dump(summary | {"blend": mix}))
    # the stage's output is its blend: the chain reproducing the model runs both, and the provenance says so
    record = publish._earlier_stage("first", {})
    assert record["command"] == "train first && blend first --alpha 0.25" and record["blend"] == mix
    assert publish._blend_text(record["blend"]) == ", then 0.75·trained + 0.25·start.pth (weight average)"
