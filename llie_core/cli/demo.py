"""``llie demo``: the main job end to end — build a night bag, enhance it, evaluate models, show the report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from llie_core.media import check_writable, write_image
from llie_core.registry import shared_dir
from llie_core.synthetic import night_scene

DEFAULT_MODELS = "tiny_dce,zero_dce_pp,clahe"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``llie demo``."""
    parser.add_argument("-o", "--output", type=Path, default=Path("demo_out"), help="output folder")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated model names to evaluate")
    parser.add_argument("--frames", type=int, default=150, help="frames taken from the source")
    parser.add_argument("--detector", help="YOLO model file (default: ../shared/models/detect/yolov8n.pt if present)")
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
    for step in steps:
        print(f"\n$ llie {' '.join(step)}", flush=True)
        status = main(step)
        if status not in (0, 1):  # 1: some frames were skipped and reported; the rest is still worth a look
            print(f"llie demo: step failed with status {status}", file=sys.stderr)
            return status
    print(f"\nsource: {source}\nenhanced bag: {enhanced}\nreport: {report / 'report.html'}")
    return 0
