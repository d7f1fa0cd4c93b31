"""``llie enhance``: files, folders, globs and videos through any model, keeping the folder structure."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from llie_core.engine import BACKENDS, Enhancer, MissingWeightsError, create_enhancer
from llie_core.media import Job, VideoWriter, check_writable, plan_jobs, read_image, read_video, write_image


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``llie enhance``."""
    parser = subparsers.add_parser("enhance", help="enhance images, folders, globs or videos")
    parser.add_argument("inputs", nargs="+", help="image or video files, folders (recursive) or glob patterns")
    parser.add_argument("-o", "--output", required=True, type=Path, help="output folder")
    parser.add_argument("--model", default="tiny_dce", help="model or classical method (see `llie models`)")
    parser.add_argument("--backend", default="auto", choices=BACKENDS)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--weights", help="a .pth or estimator .onnx file, or 'reference' (default: shipped)")
    parser.add_argument("--scale-factor", type=int, help="curve estimation at 1/s resolution (curve models)")
    parser.add_argument("--side-by-side", action="store_true", help="write input | enhanced next to each other")
    parser.set_defaults(func=run)


def _enhance_image(enhancer: Enhancer, image: np.ndarray, side_by_side: bool) -> np.ndarray:
    alpha = None
    if image.ndim == 3 and image.shape[2] == 4:
        # Alpha carries no light: enhance the colour and put it back untouched.
        image, alpha = image[:, :, :3], image[:, :, 3:]
    out = enhancer.enhance(image)
    if alpha is not None:
        image, out = np.concatenate([image, alpha], axis=2), np.concatenate([out, alpha], axis=2)
    return np.concatenate([image, out], axis=1) if side_by_side else out


def _video_dest(job: Job) -> Path:
    return job.dest if job.dest.suffix.lower() in (".mp4", ".avi") else job.dest.with_suffix(".mp4")


def _run_video(enhancer: Enhancer, job: Job, side_by_side: bool, bar: tqdm) -> None:
    frames, fps, count = read_video(job.source)
    writer = VideoWriter(_video_dest(job), fps)
    try:
        for frame in tqdm(frames, total=count or None, desc=job.source.name, unit="frame", leave=False):
            writer.write(_enhance_image(enhancer, frame, side_by_side))
    finally:
        writer.close()
    bar.update(1)


def run(args: argparse.Namespace) -> int:
    """Enhance every input; failures are reported at the end and make the exit status 1."""
    options = {} if args.scale_factor is None else {"scale_factor": args.scale_factor}
    try:
        jobs = plan_jobs(args.inputs, args.output)
        check_writable(args.output)
        enhancer = create_enhancer(
            args.model, backend=args.backend, weights=args.weights, device=args.device, **options
        )
    except MissingWeightsError as exc:
        print(f"llie enhance: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError, OSError, ImportError, RuntimeError) as exc:
        print(f"llie enhance: {exc}", file=sys.stderr)
        return 2

    failures: list[str] = []
    with tqdm(total=len(jobs), desc=f"{enhancer.name} ({enhancer.backend})", unit="file") as bar:
        for job in jobs:
            try:
                if job.is_video:
                    _run_video(enhancer, job, args.side_by_side, bar)
                    continue
                write_image(job.dest, _enhance_image(enhancer, read_image(job.source), args.side_by_side))
            except (ValueError, TypeError, OSError) as exc:
                failures.append(str(exc) if str(job.source) in str(exc) else f"{job.source}: {exc}")
                tqdm.write(f"failed: {failures[-1]}", file=sys.stderr)
            bar.update(0 if job.is_video else 1)
    done = len(jobs) - len(failures)
    print(f"enhanced {done} of {len(jobs)} inputs with {enhancer.name} ({enhancer.backend}) into {args.output}")
    if failures:
        print(f"{len(failures)} failed:", file=sys.stderr)
        for line in failures:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0
