"""Fleet evaluation: many bags / shards as tasks, serially and on a local Ray, merged into one exact report."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

pytest.importorskip("rosbags")

from llie_core.bag.fleet import BagTask, evaluate_bag, find_bags, merge_bags  # noqa: E402
from llie_core.bag.io import BagError  # noqa: E402
from llie_core.bag.make import make_bag  # noqa: E402
from llie_core.cli import main  # noqa: E402
from llie_core.cli.common import node_params  # noqa: E402
from llie_core.registry import shared_dir  # noqa: E402

# Timing differs between runs and processes: left out of the comparisons.
TIMING = {
    "latency_ms",
    "median_ms",
    "throughput_fps",
    "wall_s",
    "host",
    "wall_time_s",
    "ms_per_image",
    "cache",
    "cache_hits",
}


@pytest.fixture(scope="session")
def ray_local():
    """One private Ray instance on this machine for the session (2 CPUs, no dashboard, no network)."""
    from llie_core.fleet import import_ray, local_ray_options

    pytest.importorskip("ray")
    ray = import_ray()
    ray.init(**local_ray_options(2))
    yield ray
    ray.shutdown()


def _bag(folder: Path, name: str, frames: int, level: int) -> Path:
    """A small bag of dark frames with a moving bright block (its brightness steps with ``level``)."""
    images = folder / f"{name}_frames"
    images.mkdir(parents=True)
    rng = np.random.default_rng(level)
    for i in range(frames):
        frame = np.full((48, 64, 3), 10 + level + 3 * (i % 3), np.uint8)
        frame[10:30, 4 + 6 * i : 20 + 6 * i] = 90 + level
        frame = np.clip(frame + rng.integers(0, 6, frame.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(images / f"{i:03d}.png"), frame)
    return make_bag(images, folder / name, fps=10, progress=False).path


@pytest.fixture(scope="module")
def two_bags(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("fleet_bags")
    return [_bag(folder, "drive_a", 5, 0), _bag(folder, "drive_b", 8, 20)]


def _same(a: Any, b: Any, path: str = "") -> list[str]:
    """Differences between two JSON values: floats up to rounding, timing fields skipped."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) - TIMING != set(b) - TIMING:
            return [f"{path}: keys {sorted((set(a) ^ set(b)) - TIMING)}"]
        return [d for k in a if k not in TIMING for d in _same(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _same(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, (int, float)):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


# --- finding bags -----------------------------------------------------------------------------------------------


def test_find_bags_takes_paths_globs_and_folders_of_bags(two_bags: list[Path], tmp_path: Path) -> None:
    a, b = two_bags
    folder = a.parent
    assert find_bags([folder]) == [a, b]  # a folder of bags: its bags (the frame folders are not bags)
    assert find_bags([str(folder / "drive_*")]) == [a, b]
    assert find_bags([b, a, str(folder / "*")]) == [b, a]  # each bag once, in the order given
    with pytest.raises(BagError, match="no such bag"):
        find_bags([tmp_path / "missing"])
    with pytest.raises(BagError, match="matches no bag"):
        find_bags([str(tmp_path / "nothing*")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(BagError, match="neither a bag nor a folder holding bags"):
        find_bags([tmp_path / "empty"])


# --- the bag merge ----------------------------------------------------------------------------------------------


def test_bag_merge_weights_frames_and_pools_samples(two_bags: list[Path]) -> None:
    params = node_params(None)
    tasks = [BagTask(str(b), ("gamma",), params) for b in two_bags]
    outcomes = [evaluate_bag(t) for t in tasks]
    assert [o["error"] for o in outcomes] == [None, None]
    a, b = (o["results"] for o in outcomes)
    fleet = merge_bags(outcomes)
    assert fleet["input"]["frames"] == 13 and fleet["input"]["bags"] == 2
    row = "gamma (smoothing 0.6)"
    # Quality: frame-weighted (5 and 8 frames); LOE by the frames it was measured on.
    brightness = (5 * a["raw"]["brightness"] + 8 * b["raw"]["brightness"]) / 13
    assert fleet["raw"]["brightness"] == pytest.approx(brightness, rel=1e-12)
    after = [r["models"][row]["quality"]["contrast"]["after"] for r in (a, b)]
    assert fleet["models"][row]["quality"]["contrast"]["after"] == pytest.approx((5 * after[0] + 8 * after[1]) / 13)
    # Flicker: the mean over all 4 + 7 frame pairs (none across the bags), not the mean of the two bags' means.
    pairs = a["series"]["flicker"][row] + b["series"]["flicker"][row]
    assert len(pairs) == 11
    assert fleet["models"][row]["flicker"]["output"] == pytest.approx(np.mean(pairs), rel=1e-12)
    mean_of_means = (a["models"][row]["flicker"]["output"] + b["models"][row]["flicker"]["output"]) / 2
    assert fleet["models"][row]["flicker"]["output"] != pytest.approx(mean_of_means, rel=1e-6)
    raw_pairs = a["series"]["local_flicker"]["raw"] + b["series"]["local_flicker"]["raw"]
    assert fleet["models"][row]["local_flicker"]["input"] == pytest.approx(np.mean(raw_pairs), rel=1e-12)
    # Latency: percentiles of the 13 pooled samples.
    times = a["series"]["latency_ms"][row] + b["series"]["latency_ms"][row]
    assert fleet["models"][row]["latency_ms"]["median"] == np.median(times)
    assert fleet["models"][row]["latency_ms"]["p95"] == pytest.approx(np.percentile(times, 95))
    assert fleet["models"][row]["gated_frames"] == sum(r["models"][row]["gated_frames"] for r in (a, b))
    # A fleet of one bag is that bag's report.
    alone = merge_bags(outcomes[:1])
    assert not _same(alone["models"], a["models"]) and not _same(alone["raw"], a["raw"])


def test_a_bad_bag_is_reported_and_left_out(two_bags: list[Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.mcap"
    broken.write_bytes(b"not an mcap file")
    out = tmp_path / "report"
    argv = ["bag", "eval", str(two_bags[0]), str(broken), "--models", "gamma", "-o", str(out)]
    assert main(argv) == 1
    fleet = json.loads((out / "report.json").read_text())
    assert fleet["input"]["bags"] == 1 and fleet["input"]["frames"] == 5
    assert fleet["bags"][1]["error"].startswith(str(broken)) and len(fleet["input"]["failed"]) == 1
    assert (out / "bags" / "000_drive_a" / "report.html").is_file()
    assert not (out / "bags" / "001_broken.mcap").exists()


# --- Ray: the same report as the serial run ---------------------------------------------------------------------


def test_bag_eval_on_ray_equals_serial(ray_local, two_bags: list[Path], tmp_path: Path) -> None:
    common = ["bag", "eval", *map(str, two_bags), "--models", "gamma,clahe"]
    assert main([*common, "-o", str(tmp_path / "serial")]) == 0
    assert main([*common, "-o", str(tmp_path / "ray"), "--ray"]) == 0
    serial, on_ray = (json.loads((tmp_path / d / "report.json").read_text()) for d in ("serial", "ray"))
    assert not _same(serial, on_ray)
    assert [b["report"] for b in on_ray["bags"]] == ["bags/000_drive_a/report.html", "bags/001_drive_b/report.html"]
    assert on_ray["models"]["clahe"]["latency_ms"]["median"] > 0  # measured on the workers
    for name in ("000_drive_a", "001_drive_b"):
        bag = json.loads((tmp_path / "ray" / "bags" / name / "report.json").read_text())
        assert not _same(bag, json.loads((tmp_path / "serial" / "bags" / name / "report.json").read_text()))
    page = (tmp_path / "ray" / "report.html").read_text()
    assert '<a href="bags/001_drive_b/report.html">drive_b</a>' in page and 'id="fig-bags"' in page
    assert ray_local.is_initialized()  # a session's Ray is used as it is, not shut down by the command


HIGHWAY = shared_dir() / "data" / "detect" / "highway_dev"
YOLO = shared_dir() / "models" / "detect" / "yolov8n.pt"


@pytest.mark.skipif(
    not (HIGHWAY / "images").is_dir() or not YOLO.is_file(), reason=f"needs {HIGHWAY} and {YOLO} (../shared)"
)
def test_eval_detect_shards_on_ray_equal_one_run(ray_local, tmp_path: Path) -> None:
    pytest.importorskip("ultralytics")
    common = ["eval", "detect", "--max-images", "6", "--imgsz", "160", "--models", "gamma", "--regimes", "heavy"]
    common += ["--no-cache", "--examples", "1"]
    assert main([*common, "-o", str(tmp_path / "one")]) == 0  # the reference: one run over the six images
    assert main([*common, "-o", str(tmp_path / "ray"), "--shards", "2", "--ray"]) == 0
    one, on_ray = (json.loads((tmp_path / d / "report.json").read_text()) for d in ("one", "ray"))
    assert on_ray.pop("fleet") == {"ray": "local", "tasks": 2, "workers": None}
    assert [s["images"] for s in on_ray["shards"]] == [3, 3]
    # AP over the pooled match statistics of both shards: the figures of one run over the six images.
    folders = on_ray.pop("folders")
    assert list(folders) == [str(HIGHWAY)] and not _same(folders[str(HIGHWAY)], one)
    assert on_ray["dataset"].pop("roots") == [str(HIGHWAY)]
    on_ray.pop("shards")
    assert not _same(one, on_ray)
    assert on_ray["conditions"]["heavy"]["rows"]["gamma"]["map50"] > 0


def test_plan_shards_splits_folders_and_keeps_the_examples(tmp_path: Path) -> None:
    from llie_core.detect_eval import DetectionDataset, LabelledImage
    from llie_core.detect_fleet import DetectorSpec, plan_shards

    def dataset(name: str, n: int, labelled: bool = True) -> DetectionDataset:
        images = [LabelledImage(tmp_path / name / f"{i}.jpg", np.zeros(i % 3, np.int64)) for i in range(n)]
        return DetectionDataset(tmp_path / name, images, ["car"] if labelled else [], {2: 0}, labelled)

    spec = {"stages": ("gamma",), "regimes": (), "detector": DetectorSpec("yolo.pt", 0.25)}
    tasks = plan_shards([dataset("a", 7), dataset("b", 2)], 3, 2, **spec)
    assert [(Path(t.root).name, t.names) for t in tasks] == [
        ("a", ("0.jpg", "1.jpg", "2.jpg")),
        ("a", ("3.jpg", "4.jpg")),
        ("a", ("5.jpg", "6.jpg")),
        ("b", ("0.jpg",)),  # never more shards than images
        ("b", ("1.jpg",)),
    ]
    # The busiest images of each folder (two labels: 2.jpg and 5.jpg in a), in the shard that holds them.
    assert [t.examples for t in tasks] == [("2.jpg",), (), ("5.jpg",), ("0.jpg",), ("1.jpg",)]
    with pytest.raises(ValueError, match="cannot be pooled"):
        plan_shards([dataset("a", 2), dataset("c", 2, labelled=False)], 1, 0, **spec)
    with pytest.raises(ValueError, match="more than once"):
        plan_shards([dataset("a", 2), dataset("a", 2)], 1, 0, **spec)
