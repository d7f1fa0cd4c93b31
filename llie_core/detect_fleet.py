"""``llie eval detect`` over many folders or shards of them: one task per shard, merged into one exact report.

A shard task is plain data (folder, its image names, stage and detector specs, noise regimes); the worker
builds its own detector and stages from them and its local files, runs ``detect_eval.gather`` on its images
and sends back per-image records: for every row the match statistics ultralytics' AP integrates (tp, conf,
pred_cls, target_cls), the detections at the counting threshold, stage times, and crops of the example
images the driver chose. The driver concatenates a folder's shards in image order and computes every figure
once with ``detect_eval.summarize``: mAP over the pooled statistics, never an average of per-shard APs, so a
sharded folder gives the report of one run over it. Fleet totals pool every folder the same way (folders
must share classes and class map).
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llie_core.detect import Detection
from llie_core.detect_eval import (
    COUNT_CONF,
    APAccumulator,
    Crops,
    DetectionCache,
    DetectionDataset,
    Gathered,
    Track,
    default_cache_dir,
    example_indices,
    gather,
    load_dataset,
    make_detector,
    summarize,
)
from llie_core.noise import NoiseRegime


@dataclass(frozen=True)
class DetectorSpec:
    """The detector a worker builds: a model file at the same path on every worker, and its settings."""

    model: str
    conf: float
    iou: float = 0.7
    imgsz: int = 640
    device: str = "cpu"


@dataclass(frozen=True)
class ShardTask:
    """One shard: consecutive images of a folder (by file name) and everything needed to evaluate them."""

    root: str
    names: tuple[str, ...]
    examples: tuple[str, ...]  # names of the images whose crops the report shows
    stages: tuple[str, ...]  # stage specs (llie_core.stages)
    regimes: tuple[NoiseRegime, ...]
    detector: DetectorSpec
    class_map: str | None = None
    seed: int = 0
    camera: str = "srgb"
    bayer: str | None = None
    count_conf: float = COUNT_CONF
    cache: bool = True
    cache_dir: str | None = None  # None: the worker's default cache folder
    threads: int = 1


def plan_shards(datasets: Sequence[DetectionDataset], shards: int, examples: int, **spec: Any) -> list[ShardTask]:
    """Tasks splitting each dataset into ``shards`` near-equal runs of consecutive images; ``spec``: ShardTask fields.

    The datasets must share labelling, classes and class map (their totals are pooled); each folder once.
    """
    if shards < 1:
        raise ValueError(f"--shards must be >= 1, got {shards}")
    roots = [str(d.root) for d in datasets]
    repeated = sorted({r for r in roots if roots.count(r) > 1})
    if repeated:
        raise ValueError(f"folders given more than once: {', '.join(repeated)}")
    first = datasets[0]
    for d in datasets[1:]:
        if (d.labelled, d.names, d.class_map) != (first.labelled, first.names, first.class_map):
            raise ValueError(
                f"{d.root} and {first.root} cannot be pooled: labelled {d.labelled} / {first.labelled}, "
                f"classes {d.names} / {first.names}, class maps {d.class_map} / {first.class_map}"
            )
    tasks = []
    for d in datasets:
        names = [i.path.name for i in d.images]
        shown = tuple(names[i] for i in sorted(example_indices(d, examples)))
        for part in np.array_split(np.arange(len(names)), min(shards, len(names))):
            chunk = tuple(names[i] for i in part)
            tasks.append(ShardTask(str(d.root), chunk, tuple(n for n in shown if n in chunk), **spec))
    return tasks


def run_shard(task: ShardTask) -> dict[str, Any]:
    """Evaluate one shard on this worker; plain data: per-image records, or the error that stopped it."""
    start = time.perf_counter()
    out: dict[str, Any] = {"root": task.root, "first": task.names[0], "images": len(task.names), "error": None}
    out["host"] = socket.gethostname()
    try:
        import torch

        torch.set_num_threads(max(1, task.threads))
        from llie_core.stages import build_stages

        full = load_dataset(task.root, task.class_map, part="all")
        by_name = {item.path.name: item for item in full.images}
        missing = [n for n in task.names if n not in by_name]
        if missing:
            raise FileNotFoundError(f"{len(missing)} images missing on {out['host']}, e.g. {missing[0]}")
        dataset = dataclasses.replace(full, images=[by_name[n] for n in task.names])
        spec = task.detector
        detector = make_detector(spec.model, dataset, spec.conf, spec.iou, spec.imgsz, spec.device)
        cache = None
        if task.cache:
            folder = Path(task.cache_dir) if task.cache_dir else default_cache_dir()
            cache = DetectionCache(folder, detector, dataset.class_map)
        shown = set(task.examples)
        gathered = gather(
            dataset,
            detector,
            build_stages(task.stages, threads=task.threads),
            task.regimes,
            task.seed,
            task.camera,
            task.bayer,
            task.count_conf,
            cache,
            {i for i, n in enumerate(task.names) if n in shown},
            progress=False,
        )
    except Exception as exc:  # one bad shard must not lose the others: reported, its folder left out of totals
        out["error"] = f"{task.root} (images {task.names[0]}..{task.names[-1]}): {type(exc).__name__}: {exc}"
        return out
    out["cache_hits"] = cache.hits if cache else 0
    out["gathered"] = {
        "reference": _plain(gathered.reference, task.count_conf),
        "tracks": {c: {r: _plain(t, task.count_conf) for r, t in rows.items()} for c, rows in gathered.tracks.items()},
        "crops": gathered.crops,
    }
    out["wall_s"] = time.perf_counter() - start
    return out


def failed_shard(task: ShardTask, reason: str) -> dict[str, Any]:
    """The outcome of a shard Ray could not run (``run_tasks``' ``failed``)."""
    return {"root": task.root, "first": task.names[0], "images": len(task.names), "error": f"{task.root}: {reason}"}


def _plain(track: Track, conf: float) -> dict[str, Any]:
    """A track as plain data; only detections at the counting threshold (all the summaries use)."""
    return {
        "ap": track.ap.records if track.ap is not None else None,
        "detections": [[dataclasses.astuple(d) for d in frame if d.score >= conf] for frame in track.detections],
        "ms": track.ms,
    }


def _track(parts: Sequence[dict[str, Any]], names: list[str]) -> Track:
    """One track from plain parts concatenated in order (AP records fed to one accumulator)."""
    ap = None
    if parts[0]["ap"] is not None:
        ap = APAccumulator(names)
        for part in parts:
            for record in part["ap"]:
                ap.add_record(record)
    detections = [[Detection(*d) for d in frame] for part in parts for frame in part["detections"]]
    return Track(ap, detections, [ms for part in parts for ms in part["ms"]])


def concatenate(parts: Sequence[dict[str, Any]], names: list[str]) -> Gathered:
    """The Gathered of consecutive shards (their ``gathered`` entries, in image order)."""
    tracks = {
        c: {r: _track([p["tracks"][c][r] for p in parts], names) for r in rows}
        for c, rows in parts[0]["tracks"].items()
    }
    crops: Crops = {c: [row for p in parts for row in p["crops"][c]] for c in parts[0]["crops"]}
    return Gathered(_track([p["reference"] for p in parts], names), tracks, crops)


def merge(
    datasets: Sequence[DetectionDataset], tasks: Sequence[ShardTask], outcomes: Sequence[dict[str, Any]]
) -> tuple[dict[str, Any], Crops]:
    """(fleet results, crops): totals over every complete folder, ``folders`` per folder, ``shards`` per task.

    The results have ``evaluate``'s layout; a folder with a failed shard is reported and left out of the totals.
    """
    task0 = tasks[0]
    spec = task0.detector
    detector = {"model": spec.model, "imgsz": spec.imgsz, "conf": spec.conf, "iou": spec.iou}
    labels = [s.partition("=")[0] for s in task0.stages]  # a stage's label: before '=', else the whole spec
    options = (task0.seed, task0.camera, task0.bayer, task0.count_conf)
    folders: dict[str, Any] = {}
    pooled: list[dict[str, Any]] = []
    images = []
    for d in datasets:
        mine = [o for o in outcomes if o["root"] == str(d.root)]
        errors = [o["error"] for o in mine if o["error"]]
        if errors:
            folders[str(d.root)] = {"error": "; ".join(errors), "images": len(d.images)}
            continue
        parts = [o["gathered"] for o in mine]
        folders[str(d.root)] = summarize(d, detector, labels, task0.regimes, concatenate(parts, d.names), *options)
        pooled += parts
        images += d.images
    if not pooled:
        raise ValueError("no folder was evaluated completely: " + "; ".join(o["error"] for o in outcomes if o["error"]))
    complete = [d for d in datasets if "error" not in folders[str(d.root)]]
    first = complete[0]
    fleet = DetectionDataset(first.root, images, first.names, first.class_map, first.labelled, first.part)
    gathered = concatenate(pooled, first.names)
    results = summarize(fleet, detector, labels, task0.regimes, gathered, *options)
    roots = [str(d.root) for d in complete]
    results["dataset"]["root"] = roots[0] if len(roots) == 1 else f"{len(roots)} folders"
    results["dataset"]["roots"] = roots
    results["folders"] = folders
    results["shards"] = [
        {k: o.get(k) for k in ("root", "first", "images", "host", "wall_s", "cache_hits", "error")} for o in outcomes
    ]
    results["cache"] = {"hits": sum(o.get("cache_hits") or 0 for o in outcomes)} if task0.cache else None
    return results, gathered.crops
