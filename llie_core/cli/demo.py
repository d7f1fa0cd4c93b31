"""``llie demo``: night frames through several models, timed, with a side-by-side picture."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from llie_core.cli.common import enhancer_or_reference
from llie_core.media import check_writable, read_image, write_image
from llie_core.registry import shared_dir
from llie_core.synthetic import night_scene

DEFAULT_MODELS = "tiny_dce,zero_dce_pp,clahe,gamma"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``llie demo``."""
    parser = subparsers.add_parser("demo", help="enhance night frames with several models and show the result")
    parser.add_argument("-o", "--output", type=Path, default=Path("demo_out"), help="output folder")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated model names")
    parser.add_argument("--frames", type=int, default=6, help="number of frames")
    parser.set_defaults(func=run)


def demo_frames(count: int) -> tuple[list[np.ndarray], str]:
    """Real night driving frames from the shared folder when present, else generated night scenes."""
    folder = shared_dir() / "data" / "night" / "bdd100k_night"
    files = sorted(folder.glob("*.jpg"))[:count] if folder.is_dir() else []
    if files:
        return [read_image(f) for f in files], str(folder)
    return [night_scene(seed=i) for i in range(count)], "generated night scenes (llie_core.synthetic)"


def _label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.putText(out, text, (8, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 4, cv2.LINE_AA)
    cv2.putText(out, text, (8, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2, cv2.LINE_AA)
    return out


def run(args: argparse.Namespace) -> int:
    """Run every model on the frames, print a table, write the outputs and grid.png."""
    try:
        check_writable(args.output)
    except OSError as exc:
        print(f"llie demo: {exc}", file=sys.stderr)
        return 2
    frames, source = demo_frames(args.frames)
    print(f"{len(frames)} frames from {source}")
    columns = {"input": frames}
    rows = []
    for name in args.models.split(","):
        try:
            enhancer, weights = enhancer_or_reference(name)
        except (ValueError, FileNotFoundError, ImportError) as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        times, outputs = [], []
        for i, frame in enumerate(tqdm(frames, desc=name, unit="frame", leave=False)):
            start = time.perf_counter()
            outputs.append(enhancer.enhance(frame))
            times.append((time.perf_counter() - start) * 1e3)
            write_image(args.output / name / f"{i:03d}.png", outputs[-1])
        columns[name] = outputs
        mean_in = float(np.mean([f.mean() for f in frames]))
        mean_out = float(np.mean([o.mean() for o in outputs]))
        rows.append((name, enhancer.backend, statistics.median(times), mean_in, mean_out, weights))
    print(f"{'model':<12} {'backend':<12} {'median ms':>9} {'mean in':>8} {'mean out':>8}  weights")
    for name, backend, ms, mean_in, mean_out, weights in rows:
        print(f"{name:<12} {backend:<12} {ms:9.1f} {mean_in:8.1f} {mean_out:8.1f}  {weights}")
    grid_rows = []
    for i in range(min(4, len(frames))):
        tiles = [_label(cv2.resize(col[i], (480, 270)), name) for name, col in columns.items()]
        grid_rows.append(np.concatenate(tiles, axis=1))
    grid = args.output / "grid.png"
    write_image(grid, np.concatenate(grid_rows, axis=0))
    print(f"side-by-side picture: {grid}")
    return 0
