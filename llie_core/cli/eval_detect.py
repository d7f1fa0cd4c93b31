"""``llie eval detect``: does enhancement help the detector? mAP on darkened labelled images, agreement on night frames.

A labelled folder in YOLO layout (default: ../shared/data/detect/highway_dev, its held-out part of 150
images) is darkened with each noise regime (none, moderate, heavy: linear light ÷16 and a sensor's shot
and read noise), and the detector runs on the clean frame, the dark frame and each model's output. The
table gives AP50 / AP50-95 (%) over the dataset's classes, the report the recovered fraction
(model − dark) / (clean − dark), per-class AP, precision-recall curves and example crops. A folder of
plain images (no labels/, e.g. real night frames) is evaluated as it is: detections per class, mean
confidence and the objects also found on the frame as read.

Models: registry names, MODEL:WEIGHTS, MODEL@SCALE, LABEL=..., and chains run in order: bilateral+tiny_dce.
Regimes: none, moderate, heavy or NAME=k:16,fw:400,read:2[,row:0.5][,bits:12].
RAW models: ``--raw --camera random --models llpacknet,tiny_dce``: the dark frames are RAW mosaics; llpacknet
restores the mosaic, the other models enhance the camera's demosaiced rendering of it (the dark row).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llie_core.cli.common import add_fleet_options
from llie_core.registry import shared_dir

SUMMARY = "detector mAP on darkened labelled images (and agreement on unlabelled night frames)"
DEFAULT_MODELS = "noise_aware_dce,tiny_dce,zero_dce_pp,clahe"
DEFAULT_REGIMES = ("none", "moderate", "heavy")


def default_data() -> Path:
    """The labelled road images in the shared folder."""
    return shared_dir() / "data" / "detect" / "highway_dev"


def default_detector() -> Path:
    """The YOLOv8n checkpoint in the shared folder."""
    return shared_dir() / "models" / "detect" / "yolov8n.pt"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``llie eval detect``."""
    parser.add_argument(
        "data",
        nargs="*",
        type=Path,
        help="YOLO-layout folders or image folders (default: highway_dev); several are pooled",
    )
    parser.add_argument("--models", nargs="+", default=[DEFAULT_MODELS], help=f"default: {DEFAULT_MODELS}")
    parser.add_argument("--regimes", nargs="+", help="noise regimes (default: none moderate heavy; unlabelled: none)")
    parser.add_argument("--detector", type=Path, help="ultralytics model file (default: ../shared yolov8n.pt)")
    parser.add_argument("--part", default="eval", choices=("eval", "train", "all"), help="split part (default eval)")
    parser.add_argument("--max-images", type=int, help="only the first N images of the part (by name)")
    parser.add_argument("--class-map", type=Path, help="JSON class map (default: DATA/classes_coco.json)")
    parser.add_argument("--imgsz", type=int, default=640, help="detector input size (default 640)")
    parser.add_argument("--conf", type=float, help="detector threshold (default 0.001 labelled, for mAP; else 0.25)")
    parser.add_argument("--iou", type=float, default=0.7, help="NMS IoU (default 0.7, as yolo val)")
    parser.add_argument("--count-conf", type=float, default=0.25, help="threshold for counts and agreement")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (each image and regime gets its own stream)")
    parser.add_argument("--camera", default="srgb", choices=("srgb", "random"), help="random: Brooks et al. camera")
    parser.add_argument("--bayer", choices=("RGGB", "BGGR", "GRBG", "GBRG"), help="apply the noise on a mosaic")
    parser.add_argument(
        "--raw",
        action="store_true",
        help="dark frames through the RAW path (mosaic of --bayer, default RGGB): RAW models (llpacknet) get the "
        "mosaic, the others the camera's demosaiced frame; use with --camera random",
    )
    parser.add_argument("--examples", type=int, default=2, help="example images shown per regime")
    parser.add_argument("-o", "--output", type=Path, default=Path("eval_detect"), help="report folder")
    parser.add_argument("--threads", type=int, default=1, help="torch and onnxruntime threads (default 1)")
    parser.add_argument("--device", default="cpu", help="detector device (cpu, cuda:0, ...)")
    parser.add_argument("--cache-dir", type=Path, help="clean-frame detection cache (default ~/.cache/llie)")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the detection cache")
    parser.add_argument("--shards", type=int, default=1, help="tasks per folder (runs of consecutive images)")
    add_fleet_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate, print the table, write report.json and report.html; exit status 2 on bad arguments."""
    from llie_core import detect_eval
    from llie_core.noise import parse_regime
    from llie_core.stages import build_stages

    detector_path = args.detector or default_detector()
    folders = args.data or [default_data()]
    fleet = len(folders) > 1 or args.shards != 1 or args.ray is not None
    try:
        if args.max_images is not None and args.max_images < 1:
            raise ValueError(f"--max-images must be >= 1, got {args.max_images}")
        # A fleet's workers may run elsewhere: they get absolute paths.
        datasets = [
            detect_eval.load_dataset(
                f.absolute() if fleet else f, args.class_map, args.part, max_images=args.max_images
            )
            for f in folders
        ]
        data = datasets[0]
        names = args.regimes if args.regimes is not None else (DEFAULT_REGIMES if data.labelled else ())
        regimes = [parse_regime(r) for r in names if r != "input"]
        specs = [s for item in args.models for s in item.split(",") if s]
        stages = build_stages(specs, threads=args.threads)
        if not detector_path.is_file():
            raise FileNotFoundError(f"detector model {detector_path} does not exist (give --detector)")
    except (ValueError, FileNotFoundError, TypeError) as exc:
        print(f"llie eval detect: {exc}", file=sys.stderr)
        return 2
    conf = args.conf if args.conf is not None else (0.001 if data.labelled else args.count_conf)
    images = sum(len(d.images) for d in datasets)
    print(
        f"{images} images ({data.part} part, {'labelled' if data.labelled else 'unlabelled'}"
        f"{f', {len(datasets)} folders' if len(datasets) > 1 else ''}), "
        f"regimes: {', '.join(r.name for r in regimes) or 'none (frames as read)'}, models: {', '.join(stages)}",
        flush=True,
    )
    if fleet and args.raw:  # fleet tasks carry no RAW path yet: refuse rather than evaluate something else
        print("llie eval detect: --raw runs in this process only (not with --shards or --ray)", file=sys.stderr)
        return 2
    if fleet:
        return _run_fleet(args, datasets, specs, regimes, detector_path, conf)
    import torch

    torch.set_num_threads(max(1, args.threads))
    detector = detect_eval.make_detector(detector_path, data, conf, args.iou, args.imgsz, args.device)
    cache = None
    if not args.no_cache:
        cache = detect_eval.DetectionCache(args.cache_dir or detect_eval.default_cache_dir(), detector, data.class_map)
    results, crops = detect_eval.evaluate(
        data,
        detector,
        stages,
        regimes,
        seed=args.seed,
        camera=args.camera,
        bayer=args.bayer,
        raw=args.raw,
        count_conf=args.count_conf,
        cache=cache,
        examples=args.examples,
    )
    return _report(results, crops, args.output)


def _run_fleet(
    args: argparse.Namespace, datasets: list, specs: list[str], regimes: list, detector: Path, conf: float
) -> int:
    """Shards of every folder as tasks (serially, or on Ray with --ray), merged into one report."""
    import time

    from llie_core import detect_fleet
    from llie_core.fleet import FleetError, run_tasks

    start = time.perf_counter()
    try:
        tasks = detect_fleet.plan_shards(
            datasets,
            args.shards,
            args.examples,
            stages=tuple(specs),
            regimes=tuple(regimes),
            detector=detect_fleet.DetectorSpec(str(detector.absolute()), conf, args.iou, args.imgsz, args.device),
            class_map=str(args.class_map.absolute()) if args.class_map else None,
            seed=args.seed,
            camera=args.camera,
            bayer=args.bayer,
            count_conf=args.count_conf,
            cache=not args.no_cache,
            cache_dir=str(args.cache_dir.absolute()) if args.cache_dir else None,
            threads=args.threads,
        )
        outcomes = run_tasks(
            detect_fleet.run_shard, tasks, args.ray, args.workers, failed=detect_fleet.failed_shard, desc="shards"
        )
        results, crops = detect_fleet.merge(datasets, tasks, outcomes)
    except (ValueError, FleetError) as exc:
        print(f"llie eval detect: {exc}", file=sys.stderr)
        return 2
    results["wall_time_s"] = round(time.perf_counter() - start, 1)
    results["fleet"] = {"ray": args.ray, "tasks": len(tasks), "workers": args.workers}
    _report(results, crops, args.output)
    errors = [o["error"] for o in outcomes if o["error"]]
    for error in errors:
        print(f"llie eval detect: {error}", file=sys.stderr)
    return 1 if errors else 0


def _report(results: dict, crops: dict, output: Path) -> int:
    """Write the report and print its table; 0."""
    from llie_core.detect_report import format_table, write_report

    _, html_path = write_report(results, crops, output)
    print(format_table(results))
    print(f"\n{results['wall_time_s']} s; report: {html_path}")
    return 0
