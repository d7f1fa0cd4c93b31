"""``llie eval detect``: the fixed split, YOLO folders, ultralytics' AP, the evaluation loop, the report and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from llie_core import detect_eval as de
from llie_core.cli import main
from llie_core.detect import Detection
from llie_core.noise import get_regime
from llie_core.registry import shared_dir
from llie_core.stages import Stage, as_stage, build_stage, build_stages

pytest.importorskip("ultralytics")

HIGHWAY = shared_dir() / "data" / "detect" / "highway_dev"
YOLO = shared_dir() / "models" / "detect" / "yolov8n.pt"
NIGHT = shared_dir() / "data" / "night" / "bdd100k_night"
needs_shared = pytest.mark.skipif(
    not (HIGHWAY / "images").is_dir() or not YOLO.is_file(), reason=f"needs {HIGHWAY} and {YOLO} (../shared)"
)


# --- the split ----------------------------------------------------------------------------------------


def test_split_is_fixed_disjoint_and_complete() -> None:
    names = [f"train_{i:04d}.jpg" for i in range(500)]
    split = de.split_names(names)
    assert len(split.eval) == 150 and len(split.train) == 350
    assert not set(split.eval) & set(split.train)
    assert sorted(split.eval + split.train) == names
    assert de.split_names(list(reversed(names))) == split  # order of listing does not matter
    # The definition is pinned: training code relies on never seeing these files.
    assert split.eval[:4] == ["train_0004.jpg", "train_0009.jpg", "train_0011.jpg", "train_0012.jpg"]
    with pytest.raises(ValueError, match="eval_size"):
        de.split_names(names[:10], eval_size=10)


@pytest.mark.skipif(not (HIGHWAY / "images").is_dir(), reason=f"needs {HIGHWAY} (../shared)")
def test_highway_dev_parts_are_disjoint() -> None:
    held_out = de.load_dataset(HIGHWAY, part="eval")
    train = de.load_dataset(HIGHWAY, part="train")
    assert len(held_out.images) == 150 and len(train.images) == 350
    assert [i.path.name for i in held_out.images[:3]] == ["train_0009.jpg", "train_0030.jpg", "train_0031.jpg"]
    assert not {i.path.name for i in held_out.images} & {i.path.name for i in train.images}
    assert held_out.names == ["bus", "car", "motorcycle", "person", "truck"]
    assert held_out.class_map == {5: 0, 2: 1, 3: 2, 0: 3, 7: 4}


# --- YOLO folders ---------------------------------------------------------------------------------------


def _scene(objects: list[tuple[int, int, int, int]], size: int = 96) -> np.ndarray:
    """A dark grey BGR frame with bright rectangles (x1, y1, x2, y2)."""
    frame = np.full((size, size, 3), 40, np.uint8)
    for x1, y1, x2, y2 in objects:
        frame[y1:y2, x1:x2] = 230
    return frame


SCENES = {
    "a.png": [(10, 10, 40, 30), (60, 50, 90, 90)],
    "b.png": [(20, 40, 70, 80)],
    "c.png": [(5, 60, 30, 90), (50, 5, 80, 35), (40, 40, 55, 55)],
}


def _yolo_folder(root: Path) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for name, objects in SCENES.items():
        cv2.imwrite(str(root / "images" / name), _scene(objects))
        lines = [f"0 {(a + c) / 192} {(b + d) / 192} {(c - a) / 96} {(d - b) / 96}" for a, b, c, d in objects]
        (root / "labels" / name.replace(".png", ".txt")).write_text("\n".join(lines) + "\n")
    (root / "classes.txt").write_text("block\n")
    (root / "classes_coco.json").write_text(json.dumps([{"id": 0, "name": "block", "coco80_id": 7}]))
    return root


def test_load_yolo_folder_and_errors(tmp_path) -> None:
    root = _yolo_folder(tmp_path / "set")
    ds = de.load_dataset(root, part="all")
    assert ds.labelled and ds.names == ["block"] and ds.class_map == {7: 0}
    assert [i.path.name for i in ds.images] == ["a.png", "b.png", "c.png"]
    assert np.allclose(ds.images[0].xyxy(96, 96), [[10, 10, 40, 30], [60, 50, 90, 90]])
    (root / "labels" / "b.txt").unlink()
    assert len(de.load_dataset(root, part="all").images[1].classes) == 0  # no label file: background image
    (root / "labels" / "c.txt").write_text("0 0.5 0.5 0.1 0.1\n3 0.5 0.5 0.1 0.1\n")
    with pytest.raises(ValueError, match=r"c\.txt:2: expected 'class cx cy w h' with class in 0\.\.0"):
        de.load_dataset(root, part="all")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        de.load_dataset(tmp_path / "missing")
    plain = tmp_path / "night"
    plain.mkdir()
    cv2.imwrite(str(plain / "f.jpg"), _scene([]))
    unlabelled = de.load_dataset(plain)
    assert not unlabelled.labelled and unlabelled.class_map is None and unlabelled.part == "all"


# --- AP through ultralytics ---------------------------------------------------------------------------


def _det(box, score: float, cls: int = 0) -> Detection:
    return Detection(cls, "block", score, *map(float, box))


def test_ap_perfect_missing_and_wrong_class() -> None:
    labels = np.array([[10, 10, 40, 30], [60, 50, 90, 90]], dtype=float)
    classes = np.array([0, 0])
    perfect = de.APAccumulator(["block", "other"])
    perfect.add("a", [_det(labels[0], 0.9), _det(labels[1], 0.8)], classes, labels)
    result = perfect.result()
    assert result["map50"] == pytest.approx(0.995) and result["map50_95"] == pytest.approx(0.995)
    assert result["per_class"]["block"] == {"ap50": pytest.approx(0.995), "ap50_95": pytest.approx(0.995), "labels": 2}
    assert list(result["per_class"]) == ["block"]  # "other" has no labels: not part of the mean
    half = de.APAccumulator(["block", "other"])
    # One object found, one missed, and a confident false positive ranked first: precision 0.5 at recall 0.5.
    half.add("a", [_det([0, 0, 5, 5], 0.95), _det(labels[0], 0.9)], classes, labels)
    assert half.result()["map50"] == pytest.approx(0.25, abs=0.01)
    wrong = de.APAccumulator(["block", "other"])
    wrong.add("a", [_det(labels[0], 0.9, cls=1), _det(labels[1], 0.9, cls=1)], classes, labels)
    assert wrong.result()["map50"] == 0.0
    # A box at IoU 0.58 counts at thresholds 0.5 and 0.55 only: AP50-95 is two tenths of AP50.
    shifted = de.APAccumulator(["block"])
    box = np.array([[0, 0, 100, 100]], dtype=float)
    shifted.add("s", [_det([0, 0, 100, 58], 0.9)], np.array([0]), box)
    r = shifted.result()
    assert r["map50"] == pytest.approx(0.995) and r["map50_95"] == pytest.approx(0.2 * 0.995)


def test_detection_summary_counts_and_agreement() -> None:
    ref = [[_det([0, 0, 10, 10], 0.9), _det([20, 20, 30, 30], 0.8)], [_det([0, 0, 10, 10], 0.3)]]
    out = [[_det([1, 1, 10, 10], 0.7), _det([50, 50, 60, 60], 0.6), _det([0, 0, 9, 9], 0.1)], []]
    s = de.detection_summary(out, ref, conf=0.25)
    assert s["total"] == 2 and s["per_class"] == {"block": 2}
    assert s["mean_confidence"] == pytest.approx(0.65)
    assert s["matched"] == 1 and s["also_on_reference"] == 0.5 and s["reference_also_found"] == pytest.approx(1 / 3)


# --- the evaluation loop with a stand-in detector --------------------------------------------------------


class BlobDetector:
    """Stand-in for llie_core.detect.Detector: boxes of bright blobs (above the frame's mean + 3σ of the darkest)."""

    def __init__(self, model_path: Path) -> None:
        self.model_path, self.imgsz, self.conf, self.iou, self.multi_label = model_path, 96, 0.001, 0.7, True
        self.calls = 0

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        self.calls += 1
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
        mask = (grey > (grey.min() + grey.max()) / 2).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        return [
            Detection(7, "truck", min(1.0, a / 900), float(x), float(y), float(x + w), float(y + h))
            for x, y, w, h, a in stats[1:n]
            if a >= 20
        ]


def test_evaluate_reports_clean_dark_stages_and_uses_the_cache(tmp_path) -> None:
    ds = de.load_dataset(_yolo_folder(tmp_path / "set"), part="all")
    weights = tmp_path / "fake.pt"
    weights.write_bytes(b"fake detector")
    detector = BlobDetector(weights)
    seen = []

    def spy(frame: np.ndarray) -> np.ndarray:
        seen.append(frame.mean())
        return frame

    stages = {"blur": build_stage("gaussian_blur"), "spy": as_stage("spy", spy)}
    regimes = [get_regime("none"), get_regime("heavy")]
    cache = de.DetectionCache(tmp_path / "cache", detector, ds.class_map)
    results, crops = de.evaluate(ds, detector, stages, regimes, cache=cache, examples=1, progress=False)
    assert detector.calls == 3 * (1 + 2 * 3)  # clean + (dark + 2 stages) per regime
    assert results["reference"]["name"] == "clean" and results["reference"]["map50"] == pytest.approx(0.995)
    heavy = results["conditions"]["heavy"]["rows"]
    assert list(heavy) == ["dark", "blur", "spy"]
    # The spy saw the dark frames (light ÷16: far below the clean scene's mean of ~80).
    assert len(seen) == 6 and max(seen) < 30
    assert heavy["spy"]["map50"] == heavy["dark"]["map50"]  # identity stage: the dark figure
    for row in ("blur", "spy"):
        rec = heavy[row]["recovered"]["map50"]
        clean, dark = results["reference"]["map50"], heavy["dark"]["map50"]
        assert rec == (pytest.approx((heavy[row]["map50"] - dark) / (clean - dark)) if clean != dark else None)
    assert heavy["blur"]["ms_per_image"]["median"] > 0
    assert [label for label, _ in crops["heavy"][0]] == ["clean", "dark", "blur", "spy"]
    assert results["cache"]["hits"] == 0
    # Second run: same numbers (seeded noise), clean frames from the cache.
    detector.calls = 0
    cache = de.DetectionCache(tmp_path / "cache", detector, ds.class_map)
    again, _ = de.evaluate(ds, detector, stages, regimes, cache=cache, examples=0, progress=False)
    assert detector.calls == 3 * 2 * 3 and again["cache"]["hits"] == 3
    for condition in ("none", "heavy"):
        for row in ("dark", "blur", "spy"):
            first, second = results["conditions"][condition]["rows"][row], again["conditions"][condition]["rows"][row]
            assert {k: v for k, v in first.items() if k != "ms_per_image"} == {
                k: v for k, v in second.items() if k != "ms_per_image"
            }
    with pytest.raises(ValueError, match="must return an H×W×3 uint8 frame"):
        de.evaluate(ds, detector, {"bad": as_stage("bad", lambda f: f[:10])}, regimes, progress=False)


def test_stages_chain_label_and_reject_bad_specs() -> None:
    chain = build_stage("den=gaussian_blur+gamma")
    assert chain.label == "den" and len(chain.steps) == 2
    frame = np.full((8, 8, 3), 64, np.uint8)
    assert np.array_equal(chain(frame), build_stage("gamma")(build_stage("gaussian_blur")(frame)))
    assert isinstance(as_stage("x", "clahe"), Stage) and as_stage("x", "clahe").label == "x"
    with pytest.raises(ValueError, match="repeated: gamma"):
        build_stages(["gamma", "gamma"])
    with pytest.raises(ValueError, match="classical method"):
        build_stage("clahe:weights.pth")
    with pytest.raises(ValueError, match="unknown model"):
        build_stage("bilateral+nope")


def test_eval_without_subcommand_is_still_the_quality_tool() -> None:
    from llie_core.cli import _with_default_subcommand as route

    assert route(["eval", "tiny_dce", "--no-niqe"]) == ["eval", "quality", "tiny_dce", "--no-niqe"]
    assert route(["eval", "--out", "x", "tiny_dce"]) == ["eval", "quality", "--out", "x", "tiny_dce"]
    assert route(["eval", "detect", "x"]) == ["eval", "detect", "x"]
    assert route(["eval", "-h"]) == ["eval", "-h"]
    assert route(["bag", "eval"]) == ["bag", "eval"]


def test_cli_bad_input_is_a_clear_error(tmp_path, capsys) -> None:
    assert main(["eval", "detect", str(tmp_path / "nothing"), "--detector", str(tmp_path / "y.pt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    root = _yolo_folder(tmp_path / "set")
    assert main(["eval", "detect", str(root), "--regimes", "extreme", "--part", "all"]) == 2
    assert "unknown noise regime 'extreme'" in capsys.readouterr().err


# --- the real detector (../shared) ---------------------------------------------------------------------


@needs_shared
def test_clean_map_equals_yolo_val(tmp_path) -> None:
    """On the same images the tool's clean figures are `yolo val`'s (rect=False: no extra padding)."""
    from ultralytics import YOLO as UltralyticsYOLO

    ds = de.load_dataset(HIGHWAY, part="eval", max_images=6)
    detector = de.make_detector(YOLO, ds, conf=0.001, imgsz=320)
    results, _ = de.evaluate(ds, detector, {}, [], examples=0, progress=False)
    root = tmp_path / "val"
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    to_coco = {v: k for k, v in ds.class_map.items()}
    for item in ds.images:
        (root / "images" / item.path.name).symlink_to(item.path.resolve())
        rows = [f"{to_coco[int(c)]} {' '.join(map(str, b))}" for c, b in zip(item.classes, item.boxes, strict=True)]
        (root / "labels" / f"{item.path.stem}.txt").write_text("\n".join(rows) + "\n")
    names = UltralyticsYOLO(str(YOLO)).names
    (root / "data.yaml").write_text(json.dumps({"path": str(root), "train": "images", "val": "images", "names": names}))
    val = UltralyticsYOLO(str(YOLO)).val(
        data=str(root / "data.yaml"), imgsz=320, conf=0.001, iou=0.7, batch=1, rect=False, plots=False,
        device="cpu", verbose=False, project=str(tmp_path / "runs"), workers=0,
    )  # fmt: skip
    assert results["reference"]["map50"] == pytest.approx(val.box.map50, abs=1e-6)
    assert results["reference"]["map50_95"] == pytest.approx(val.box.map, abs=1e-3)


@needs_shared
def test_cli_writes_report_on_highway_dev(tmp_path, capsys) -> None:
    out = tmp_path / "report"
    args = ["eval", "detect", "--max-images", "2", "--imgsz", "320", "--models", "gaussian_blur,bilateral+gamma"]
    assert main([*args, "--regimes", "heavy", "-o", str(out), "--no-cache"]) == 0
    text = capsys.readouterr().out
    assert "AP50 / AP50-95 (%)" in text and "heavy" in text and "bilateral+gamma" in text
    report = json.loads((out / "report.json").read_text())
    assert report["dataset"]["part"] == "eval" and report["dataset"]["images"] == 2
    assert report["detector"]["imgsz"] == 320 and report["detector"]["conf"] == 0.001
    rows = report["conditions"]["heavy"]["rows"]
    assert list(rows) == ["dark", "gaussian_blur", "bilateral+gamma"]
    assert 0 <= rows["dark"]["map50"] <= 1 and set(rows["dark"]["per_class"]) <= set(report["dataset"]["classes"])
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64") == 4 and page.count("data:image/jpeg;base64") == 1


@pytest.mark.skipif(not NIGHT.is_dir() or not YOLO.is_file(), reason=f"needs {NIGHT} and {YOLO} (../shared)")
def test_cli_on_unlabelled_night_frames(tmp_path) -> None:
    folder = tmp_path / "night"
    folder.mkdir()
    for path in sorted(NIGHT.glob("*.jpg"))[:2]:
        (folder / path.name).symlink_to(path)
    out = tmp_path / "report"
    args = ["eval", "detect", str(folder), "--imgsz", "320", "--models", "gamma", "-o", str(out), "--no-cache"]
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    assert not report["dataset"]["labelled"] and report["reference"]["name"] == "input"
    gamma = report["conditions"]["input"]["rows"]["gamma"]["detections"]
    assert gamma["conf"] == 0.25 and "matched" in gamma and "map50" not in report["reference"]
    assert gamma["matched"] <= min(gamma["total"], report["reference"]["detections"]["total"])
