"""``llie bag eval`` over many bags: one task per bag (serially or on Ray), merged into one fleet report.

A task is plain data (bag path, model names, the node's parameter values, detector file and settings); the
worker builds its own enhancers and detector and returns the bag's report results (``evaluate_frames``) and
its report page, rendered there (the figures are the slow part of a report). The fleet totals are exact where
the metric allows:

- quality means: frame-weighted means of the bags' means; LOE weighted by the frames it was measured on;
- latency: median, p95 and mean of every bag's per-frame samples pooled; throughput: all frames over all time;
- flicker, global and local: the mean of all bags' frame-to-frame changes pooled (no pair spans two bags), the
  ratio output over input of those pooled means;
- gated frames, detections, matches and per-class counts: sums; mean confidence weighted by the counts.
"""

from __future__ import annotations

import glob
import socket
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llie_core.bag.evaluate import QUALITY_KEYS, flicker_entry, latency_summary, throughput
from llie_core.bag.io import BagError

BAG_FILES = (".mcap", ".db3", ".bag")


def is_bag(path: Path) -> bool:
    """A bag file (.mcap, .db3, .bag) or a ROS 2 bag folder (metadata.yaml, one .mcap, or .db3 files)."""
    if path.is_file():
        return path.suffix in BAG_FILES
    if not path.is_dir():
        return False
    return (path / "metadata.yaml").is_file() or len(list(path.glob("*.mcap"))) == 1 or any(path.glob("*.db3"))


def find_bags(inputs: Iterable[str | Path]) -> list[Path]:
    """The bags ``inputs`` name, in order and once each: bags, glob patterns, or folders of bags (one level)."""
    found: list[Path] = []
    for item in inputs:
        text = str(item)
        if glob.has_magic(text):  # a pattern's matches that are bags (it may match other files too)
            bags = [Path(p) for p in sorted(glob.glob(text)) if is_bag(Path(p))]
            if not bags:
                raise BagError(f"{text}: matches no bag")
        elif is_bag(Path(text)):
            bags = [Path(text)]
        elif Path(text).is_dir():
            bags = [p for p in sorted(Path(text).iterdir()) if is_bag(p)]
            if not bags:
                raise BagError(f"{text}: neither a bag nor a folder holding bags")
        elif Path(text).exists():
            raise BagError(f"{text}: not a bag ({', '.join(BAG_FILES)} file or ROS 2 bag folder)")
        else:
            raise BagError(f"{text}: no such bag")
        found += bags
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


@dataclass(frozen=True)
class BagTask:
    """One bag to evaluate and how: everything a worker needs to build its enhancers and detector."""

    bag: str
    models: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)  # the enhancer node's parameter values
    topic: str | None = None
    max_frames: int | None = None
    detector: tuple[str, float, int] | None = None  # YOLO model file, confidence threshold, input size
    threads: int | None = None  # per network (None: the backend's default)


def evaluate_bag(task: BagTask) -> dict[str, Any]:
    """Evaluate one bag on this worker: {bag, host, wall_s, error, results, html (the bag's report page)}."""
    from llie_core.bag.evaluate import evaluate_frames, read_frames
    from llie_core.bag.report import render_html
    from llie_core.cli.common import enhancer_from_params
    from llie_core.stream import StreamSettings

    start = time.perf_counter()
    out: dict[str, Any] = {"bag": task.bag, "host": socket.gethostname(), "error": None}
    try:
        data = read_frames(Path(task.bag), task.topic, task.max_frames)
        enhancers = {m: enhancer_from_params(task.params, model=m, threads=task.threads) for m in task.models}
        detector = None
        if task.detector:
            from llie_core.detect import Detector

            model, conf, imgsz = task.detector
            detector = Detector(model, conf=conf, imgsz=imgsz)
        settings = StreamSettings.from_params(task.params)
        results, thumbs = evaluate_frames(data, enhancers, detector, settings, progress=False)
        page = render_html(results, thumbs)
    except Exception as exc:  # one bad bag must not lose the others: reported, left out of the totals
        out["error"] = f"{task.bag}: {type(exc).__name__}: {exc}"
        out["wall_s"] = time.perf_counter() - start
        return out
    out["results"] = results
    out["html"] = page
    out["wall_s"] = time.perf_counter() - start
    return out


def failed_bag(task: BagTask, reason: str) -> dict[str, Any]:
    """The outcome of a bag Ray could not run (``run_tasks``' ``failed``)."""
    return {"bag": task.bag, "host": None, "wall_s": None, "error": f"{task.bag}: {reason}"}


# --- the merge ------------------------------------------------------------------------------------------------


def _weighted(values: Sequence[float], weights: Sequence[float]) -> float:
    total = sum(weights)
    return float(np.dot(values, weights) / total) if total else float("nan")


def _pooled_mean(series: Iterable[Sequence[float]]) -> float:
    """Mean of every value of every series (0 when there is none, as ``quality.flicker``)."""
    values = np.concatenate([np.asarray(s, dtype=np.float64) for s in series])
    return float(values.mean()) if values.size else 0.0


def merge_detection_summaries(summaries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Totals of ``evaluate``'s detection summaries: counts summed, mean confidence weighted by the counts."""
    total = sum(s["total"] for s in summaries)
    per_class: Counter = Counter()
    for s in summaries:
        per_class.update(s["per_class"])
    confidence = sum(s["mean_confidence"] * s["total"] for s in summaries if s["total"])
    return {
        "total": total,
        "per_class": dict(per_class.most_common()),
        "mean_confidence": confidence / total if total else None,
    }


def _merge_row(row: str, bags: Sequence[dict[str, Any]], raw: dict[str, Any]) -> dict[str, Any]:
    """One model row over the bags (each bag's report results)."""
    entries = [b["models"][row] for b in bags]
    frames = [b["input"]["frames"] for b in bags]
    times = [t for b in bags for t in b["series"]["latency_ms"][row]]
    first = entries[0]
    entry: dict[str, Any] = {
        "model": first["model"],
        "smoothing": first["smoothing"],
        "backend": ", ".join(dict.fromkeys(e["backend"] for e in entries)),
        "weights": ", ".join(dict.fromkeys(e["weights"] for e in entries)),
        "gated_frames": sum(e["gated_frames"] for e in entries),
        "latency_ms": latency_summary(times),
        "throughput_fps": throughput(sum(frames), times),
        "quality": {
            k: {"before": raw[k], "after": _weighted([e["quality"][k]["after"] for e in entries], frames)}
            for k in QUALITY_KEYS
        },
        "loe": _weighted([e["loe"] for e in entries], [b["input"]["loe_frames"] for b in bags]),
        "flicker": flicker_entry(raw["flicker"], _pooled_mean(b["series"]["flicker"][row] for b in bags)),
        "local_flicker": flicker_entry(
            raw["local_flicker"], _pooled_mean(b["series"]["local_flicker"][row] for b in bags)
        ),
    }
    if "detections" in first:
        dets = [e["detections"] for e in entries]
        enh = merge_detection_summaries([d["enhanced"] for d in dets])
        matched = sum(d["matched"] for d in dets)
        entry["detections"] = {
            "raw": raw["detections"],
            "enhanced": enh,
            "matched": matched,
            "enhanced_also_on_raw": matched / enh["total"] if enh["total"] else None,
            "raw_also_on_enhanced": matched / raw["detections"]["total"] if raw["detections"]["total"] else None,
            "only_on_enhanced": enh["total"] - matched,
            "only_on_raw": raw["detections"]["total"] - matched,
        }
    return entry


def merge_bags(outcomes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Fleet results: ``input``, ``raw`` and ``models`` totals in a bag report's layout, and a row per bag.

    Bags whose task failed are listed (``bags``, ``fleet.failed``) and left out of the totals.
    """
    done = [o for o in outcomes if o["error"] is None]
    if not done:
        raise BagError("no bag could be evaluated: " + "; ".join(o["error"] for o in outcomes))
    bags = [o["results"] for o in done]
    rows = list(bags[0]["models"])
    for o in done[1:]:
        if list(o["results"]["models"]) != rows:
            raise BagError(f"{o['bag']}: its report rows {list(o['results']['models'])} differ from {rows}")
    frames = [b["input"]["frames"] for b in bags]
    raw: dict[str, Any] = {k: _weighted([b["raw"][k] for b in bags], frames) for k in QUALITY_KEYS}
    raw["flicker"] = _pooled_mean(b["series"]["flicker"]["raw"] for b in bags)
    raw["local_flicker"] = _pooled_mean(b["series"]["local_flicker"]["raw"] for b in bags)
    if "detections" in bags[0]["raw"]:
        raw["detections"] = merge_detection_summaries([b["raw"]["detections"] for b in bags])
    skipped: Counter = Counter()
    for b in bags:
        skipped.update(b["input"]["skipped"])
    return {
        "input": {
            "bags": len(done),
            "failed": [o["error"] for o in outcomes if o["error"]],
            "read_errors": [b["input"]["read_error"] for b in bags if b["input"]["read_error"]],
            "frames": sum(frames),
            "duration_s": sum(b["input"]["duration_s"] for b in bags),
            "lost": sum(b["input"]["lost"] for b in bags),
            "skipped": dict(skipped),
            "loe_frames": sum(b["input"]["loe_frames"] for b in bags),
            "topics": sorted({b["input"]["topic"] for b in bags}),
        },
        "settings": bags[0]["settings"],
        "raw": raw,
        "models": {row: _merge_row(row, bags, raw) for row in rows},
        "bags": [_bag_row(o) for o in outcomes],
    }


def _bag_row(outcome: dict[str, Any]) -> dict[str, Any]:
    """A bag's line of the fleet report: where it ran, its size, and each model's headline figures."""
    row: dict[str, Any] = {k: outcome[k] for k in ("bag", "host", "wall_s", "error")}
    if "report" in outcome:
        row["report"] = outcome["report"]
    if outcome["error"] is not None:
        return row
    results = outcome["results"]
    inp = results["input"]
    row |= {k: inp[k] for k in ("topic", "frames", "duration_s", "lost", "read_error")}
    row["raw"] = {k: results["raw"][k] for k in ("brightness", "flicker", "local_flicker")}
    if "detections" in results["raw"]:
        row["raw"]["detections"] = results["raw"]["detections"]["total"]
    row["models"] = {}
    for name, m in results["models"].items():
        row["models"][name] = {
            "brightness": m["quality"]["brightness"]["after"],
            "loe": m["loe"],
            "flicker": m["flicker"]["output"],
            "flicker_ratio": m["flicker"]["ratio"],
            "local_flicker_ratio": m["local_flicker"]["ratio"],
            "median_ms": m["latency_ms"]["median"],
            "gated_frames": m["gated_frames"],
        }
        if "detections" in m:
            row["models"][name] |= {
                "detections": m["detections"]["enhanced"]["total"],
                "matched": m["detections"]["matched"],
            }
    return row
