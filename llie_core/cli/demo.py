"""``llie demo``: the main job end to end — build a night bag, enhance it, evaluate models, show the report.

Then ``llie eval detect`` on part of the held-out road images (darkened with the noise regimes): the
figure that says whether enhancement helps the detector.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from llie_core.media import check_writable, write_image
from llie_core.registry import shared_dir
from llie_core.synthetic import night_scene

DEFAULT_MODELS = "noise_aware_dce,tiny_dce,zero_dce_pp,clahe"
DETECT_MODELS = "noise_aware_dce,tiny_dce,gaussian_blur"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``llie demo``."""
    parser.add_argument("-o", "--output", type=Path, default=Path("demo_out"), help="output folder")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated model names to evaluate")
    parser.add_argument("--frames", type=int, default=150, help="frames taken from the source")
    parser.add_argument("--detector", help="YOLO model file (default: ../shared/models/detect/yolov8n.pt if present)")
    parser.add_argument("--detect-models", default=DETECT_MODELS, help="models for the detection benchmark step")
    parser.add_argument("--detect-images", type=int, default=60, help="held-out images for it (0: skip the step)")
    parser.set_defaults(func=run)


def demo_source(out_dir: Path, frames: int) -> Path:
    """The night video from the shared folder when present, else a folder of generated night frames."""
    video = shared_dir() / "data" / "night" / "videos" / "night_highway_640x360.mp4"
    if video.is_file():
        return video
    folder = out_dir / "generated_frames"
    scene = night_scene(360, 640, seed=0)
    for i in range(frames):
        # a slow pan, so consecutive frames differ as a drive's do
        write_image(folder / f"{i:05d}.png", np.roll(scene, 4 * i, axis=1))
    return folder


def run(args: argparse.Namespace) -> int:
    """make → enhance → eval, each step the same command a user would type; prints where the report is."""
    from llie_core.cli import main

    try:
        check_writable(args.output)
    except OSError as exc:
        print(f"llie demo: {exc}", file=sys.stderr)
        return 2
    source = demo_source(args.output, args.frames)
    detector = args.detector or shared_dir() / "models" / "detect" / "yolov8n.pt"
    detect = ["--detector", str(detector)] if Path(detector).is_file() else []
    bag, enhanced, report = args.output / "night_bag", args.output / "night_bag_enhanced", args.output / "report"
    frames = ["--max-frames", str(args.frames)]
    model = args.models.split(",")[0]
    steps = [
        ["bag", "make", str(source), str(bag), *frames, "--overwrite"],
        ["bag", "enhance", str(bag), str(enhanced), "--model", model, *detect, "--overwrite"],
        ["bag", "eval", str(bag), "--models", args.models, *detect, *frames, "-o", str(report)],
    ]
    detect_step = _detect_step(args, source, Path(detector))
    if detect_step:
        steps.append(detect_step)
    for step in steps:
        print(f"\n$ llie {' '.join(step)}", flush=True)
        status = main(step)
        if status not in (0, 1):  # 1: some frames were skipped and reported; the rest is still worth a look
            print(f"llie demo: step failed with status {status}", file=sys.stderr)
            return status
    print(f"\nsource: {source}\nenhanced bag: {enhanced}\nreport: {report / 'report.html'}")
    if detect_step:
        print(f"detection benchmark: {args.output / 'detect_report' / 'report.html'}")
    return 0


def _detect_step(args: argparse.Namespace, source: Path, detector: Path) -> list[str] | None:
    """``llie eval detect`` on the held-out road images, or on the generated frames as they are; None to skip."""
    from llie_core.cli.eval_detect import default_data

    if args.detect_images <= 0:
        return None
    if not detector.is_file():
        print(f"\n(detection benchmark skipped: no detector at {detector}; give --detector)")
        return None
    data = default_data()
    if not (data / "labels").is_dir():
        if not source.is_dir():
            return None
        data = source  # generated night frames: unlabelled, detections and agreement only
    out = args.output / "detect_report"
    return [
        *("eval", "detect", str(data), "--detector", str(detector), "--models", args.detect_models),
        *("--max-images", str(args.detect_images), "--examples", "1", "-o", str(out)),
    ]
