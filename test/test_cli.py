"""The `llie` command: enhance (files, folders, globs, videos, bad inputs), models, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from llie_core.cli import main

pytest.importorskip("torch")  # the curve model here runs from a .pth via the torch backend


@pytest.fixture
def model_args(synthetic_weights):
    return ["--model", "tiny_dce", "--weights", str(synthetic_weights("tiny_dce")), "--scale-factor", "4"]


def _write(path: Path, value: int = 40, size=(24, 32)) -> np.ndarray:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.full((*size, 3), value, np.uint8)
    image[:, : size[1] // 2] //= 2
    assert cv2.imwrite(str(path), image)
    return image


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "night"
    _write(root / "a.png")
    _write(root / "cam1" / "b.jpg", 30)
    _write(root / "cam1" / "deep" / "c.bmp", 20)
    (root / "notes.txt").write_text("not an image")
    return root


def test_folder_keeps_structure_and_brightens(tree, tmp_path, capsys, model_args):
    out = tmp_path / "out"
    assert main(["enhance", str(tree), "-o", str(out), *model_args]) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a.png", "cam1/b.jpg", "cam1/deep/c.bmp"]
    assert cv2.imread(str(out / "a.png")).mean() > cv2.imread(str(tree / "a.png")).mean() + 10
    assert "enhanced 3 of 3 inputs" in capsys.readouterr().out


def test_glob_and_single_file(tree, tmp_path, model_args):
    out = tmp_path / "out"
    assert main(["enhance", str(tree / "cam1" / "**" / "*.bmp"), str(tree / "a.png"), "-o", str(out), *model_args]) == 0
    assert (out / "deep" / "c.bmp").is_file() and (out / "a.png").is_file()


def test_side_by_side_doubles_the_width(tree, tmp_path, model_args):
    out = tmp_path / "out"
    assert main(["enhance", str(tree / "a.png"), "-o", str(out), "--side-by-side", *model_args]) == 0
    pair = cv2.imread(str(out / "a.png"))
    np.testing.assert_array_equal(pair[:, :32], cv2.imread(str(tree / "a.png")))
    assert pair.shape == (24, 64, 3)


def test_16bit_and_mono_images_keep_their_type(tmp_path, model_args):
    src = tmp_path / "in"
    src.mkdir()
    cv2.imwrite(str(src / "mono16.png"), np.full((20, 30), 3000, np.uint16))
    cv2.imwrite(str(src / "mono8.png"), np.full((20, 30), 25, np.uint8))
    out = tmp_path / "out"
    assert main(["enhance", str(src), "-o", str(out), *model_args]) == 0
    mono16 = cv2.imread(str(out / "mono16.png"), cv2.IMREAD_UNCHANGED)
    mono8 = cv2.imread(str(out / "mono8.png"), cv2.IMREAD_UNCHANGED)
    assert mono16.dtype == np.uint16 and mono16.shape == (20, 30) and mono16.mean() > 3000
    assert mono8.dtype == np.uint8 and mono8.shape == (20, 30) and mono8.mean() > 25


def test_bad_files_are_reported_and_the_rest_processed(tree, tmp_path, capsys, model_args):
    (tree / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tree / "empty.jpg").write_bytes(b"")
    out = tmp_path / "out"
    assert main(["enhance", str(tree), "-o", str(out), *model_args]) == 1
    captured = capsys.readouterr()
    assert "enhanced 3 of 5 inputs" in captured.out
    assert "2 failed" in captured.err
    assert f"{tree / 'broken.png'}: not a readable image" in captured.err
    assert f"{tree / 'empty.jpg'}: file is empty" in captured.err
    assert (out / "cam1" / "deep" / "c.bmp").is_file()


def test_video_is_enhanced_frame_by_frame(tmp_path, model_args):
    src = tmp_path / "drive.avi"
    writer = cv2.VideoWriter(str(src), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(7):
        writer.write(np.full((48, 64, 3), 20 + i, np.uint8))
    writer.release()
    out = tmp_path / "out"
    assert main(["enhance", str(src), "-o", str(out), *model_args]) == 0
    cap = cv2.VideoCapture(str(out / "drive.avi"))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) == 7
    assert frames[0].shape == (48, 64, 3) and frames[0].mean() > 35


def test_unwritable_output_fails_before_any_work(tree, tmp_path, capsys, model_args):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["enhance", str(tree), "-o", str(blocker / "out"), *model_args]) == 2
    assert "is not writable" in capsys.readouterr().err


def test_missing_input_and_unknown_model(tmp_path, capsys, model_args):
    assert main(["enhance", str(tmp_path / "nope"), "-o", str(tmp_path / "o"), *model_args]) == 2
    assert "does not exist" in capsys.readouterr().err
    _write(tmp_path / "x.png")
    assert main(["enhance", str(tmp_path / "x.png"), "-o", str(tmp_path / "o"), "--model", "zerodce"]) == 2
    assert "valid names:" in capsys.readouterr().err
    assert not (tmp_path / "o" / "x.png").exists()


def test_missing_default_weights_say_what_is_needed(tmp_path, capsys, monkeypatch):
    from llie_core import registry

    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path / "noweights")
    _write(tmp_path / "x.png")
    assert main(["enhance", str(tmp_path / "x.png"), "-o", str(tmp_path / "o"), "--model", "zero_dce_pp"]) == 2
    assert "no weights for 'zero_dce_pp'" in capsys.readouterr().err


def test_classical_method_through_the_command(tree, tmp_path):
    out = tmp_path / "out"
    assert main(["enhance", str(tree / "a.png"), "-o", str(out), "--model", "gamma"]) == 0
    assert cv2.imread(str(out / "a.png")).mean() > cv2.imread(str(tree / "a.png")).mean()


def test_iat_model_through_the_command_reproduces_its_golden_output(tmp_path):
    from conftest import shared_path

    folder = shared_path("golden", "iat_student")
    shared_path("weights", "reference", "iat_student.pth")
    out = tmp_path / "out"
    argv = ["enhance", str(folder / "input_01.png"), "-o", str(out), "--model", "iat_student", "--weights", "reference"]
    assert main(argv) == 0
    expected = np.clip(np.rint(np.load(folder / "output_01.npy") * 255), 0, 255)[:, :, ::-1]  # BGR, as written
    assert np.abs(cv2.imread(str(out / "input_01.png")).astype(int) - expected).max() <= 1


def test_models_json_lists_every_model_with_params(capsys):
    assert main(["models", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert {n: rows[n]["params"] for n in ("zero_dce", "zero_dce_pp", "tiny_dce")} == {
        "zero_dce": 79_416,
        "zero_dce_pp": 10_561,
        "tiny_dce": 161,
    }
    assert rows["clahe"]["kind"] == "classical"
    for name in ("zero_dce", "zero_dce_pp", "tiny_dce"):
        assert rows[name]["provenance"]
    # the operating point of the shipped weights, as their cards set it
    assert (rows["tiny_dce"]["default_scale_factor"], rows["tiny_dce"]["max_estimation_side"]) == (12, None)
    if rows["iat_student"]["default_weights"] != "-":
        assert (rows["iat_student"]["default_scale_factor"], rows["iat_student"]["max_estimation_side"]) == (1, 256)


def test_models_table(capsys):
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["name", "kind", "params"]
    assert any(line.split()[:3] == ["tiny_dce", "curve", "161"] for line in lines)


def test_console_script_is_installed():
    from shutil import which

    if which("llie") is None:
        pytest.skip("llie console script not on PATH (package not pip-installed)")
    assert os.system("llie models --json > /dev/null") == 0


def test_videos_and_sequences_run_as_camera_streams(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text("/**:\n  ros__parameters:\n    gate_threshold: 0.5\n    smoothing: 0.6\n")
    video = tmp_path / "drive.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    levels = [30, 50, 30, 50, 220, 220]
    for level in levels:
        writer.write(np.full((48, 64, 3), level, np.uint8))
    writer.release()
    out = tmp_path / "out"
    assert main(["enhance", str(video), "-o", str(out), "--model", "gamma", "--params", str(params)]) == 0
    assert "2 stream frames bright enough for the gate (gate_threshold 0.5) unchanged" in capsys.readouterr().out
    cap = cv2.VideoCapture(str(out / "drive.avi"))
    means = [cap.read()[1].mean() for _ in levels]
    assert all(m > level + 10 for m, level in zip(means[:4], levels[:4], strict=True))
    assert abs(means[4] - 220) < 3 and abs(means[5] - 220) < 3  # gated: passed through (up to MJPG)

    seq = tmp_path / "seq"
    for i, level in enumerate([30, 60, 30, 200]):
        _write(seq / f"{i:03d}.png", level)
    runs = {}
    for name, extra in {"stream": ["--sequence"], "alone": [], "unsmoothed": ["--sequence"]}.items():
        text = params.read_text().replace("0.6", "0.0") if name == "unsmoothed" else params.read_text()
        (tmp_path / f"{name}.yaml").write_text(text)
        argv = ["enhance", str(seq), "-o", str(tmp_path / name), "--model", "gamma", *extra]
        assert main([*argv, "--params", str(tmp_path / f"{name}.yaml")]) == 0
        runs[name] = [cv2.imread(str(tmp_path / name / f"{i:03d}.png")) for i in range(4)]
    np.testing.assert_array_equal(runs["stream"][3], cv2.imread(str(seq / "003.png")))  # gated in the stream
    assert runs["alone"][3].mean() > runs["stream"][3].mean() + 5  # an image alone is always enhanced
    np.testing.assert_array_equal(runs["stream"][0], runs["unsmoothed"][0])  # the first frame has no past
    assert np.abs(runs["stream"][1].astype(int) - runs["unsmoothed"][1]).max() > 3  # the gain is smoothed after it
