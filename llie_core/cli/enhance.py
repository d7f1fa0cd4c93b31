"""``llie enhance``: files, folders, globs and videos through any model, keeping the folder structure.

Videos (and, with ``--sequence``, the images of each folder in name order) are camera streams: their frames run
through llie_core.stream.StreamProcessor with the enhancer node's parameters (``--params``, default the node's), so
gating and temporal smoothing apply as on the robot. Other images are enhanced one by one by the model alone.

Camera RAW files (DNG, ARW, NEF, CR2, ...: ``media.RAW_SUFFIXES``, read by rawpy with the file's pattern and
levels) are written as PNG: restored by a RAW model (``--model llpacknet``, amplification metered per file or
``--amplification``), or demosaiced at their levels and enhanced like an image by any other model.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from llie_core.bayer import RawFrame
from llie_core.cli.common import add_model_options, params_from_args
from llie_core.engine import Enhancer, MissingWeightsError, create_enhancer
from llie_core.media import Job, VideoWriter, check_writable, plan_jobs, read_image, read_raw, read_video, write_image
from llie_core.stream import FixedModel, StreamProcessor, StreamSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``llie enhance``."""
    parser.add_argument("inputs", nargs="+", help="image or video files, folders (recursive) or glob patterns")
    parser.add_argument("-o", "--output", required=True, type=Path, help="output folder")
    add_model_options(parser)
    parser.add_argument("--side-by-side", action="store_true", help="write input | enhanced next to each other")
    parser.add_argument(
        "--sequence",
        action="store_true",
        help="treat the images of each folder, in name order, as one camera stream (gating, smoothing), like videos",
    )
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate of --sequence streams (default 30)")
    parser.add_argument(
        "--amplification",
        type=float,
        help="RAW models: digital gain of the black-subtracted mosaic, e.g. a known exposure ratio (default: metered)",
    )
    parser.set_defaults(func=run)


class _Source:
    """Enhances the frames of one input: a stream (StreamProcessor) or independent images (the model alone)."""

    def __init__(self, enhancer: Enhancer, settings: StreamSettings | None, fps: float = 30.0) -> None:
        self.enhancer, self.fps, self.index = enhancer, fps, 0
        self.processor = StreamProcessor(FixedModel(enhancer), settings) if settings is not None else None

    def enhance(self, image: np.ndarray, side_by_side: bool) -> np.ndarray:
        """The enhanced image (alpha kept as it was), or input | enhanced."""
        alpha = None
        if image.ndim == 3 and image.shape[2] == 4:
            # Alpha carries no light: enhance the colour and put it back untouched.
            image, alpha = image[:, :, :3], image[:, :, 3:]
        if self.processor is None:
            out = self.enhancer.enhance(image)
        else:
            # Only the luma weights and channel order read the encoding; 16-bit frames keep their depth.
            encoding = "bgr8" if image.ndim == 3 else "mono8"
            out = self.processor.run(image, encoding, round(self.index * 1e9 / self.fps))[0].array
            self.index += 1
        if alpha is not None:
            image, out = np.concatenate([image, alpha], axis=2), np.concatenate([out, alpha], axis=2)
        return np.concatenate([image, out], axis=1) if side_by_side else out


def _video_dest(job: Job) -> Path:
    return job.dest if job.dest.suffix.lower() in (".mp4", ".avi") else job.dest.with_suffix(".mp4")


def enhance_raw(enhancer: Enhancer, raw: RawFrame, side_by_side: bool) -> np.ndarray:
    """A RAW frame as BGR uint8: restored by a RAW model, else demosaiced at its levels and enhanced (| the input)."""
    dark = raw.to_bgr8()
    out = enhancer.enhance(raw) if enhancer.takes_raw else enhancer.enhance(dark)
    return np.concatenate([dark, out], axis=1) if side_by_side else out


def _run_video(enhancer: Enhancer, settings: StreamSettings, job: Job, side_by_side: bool) -> int:
    """Enhance a video as a camera stream; returns the frames the gate passed through."""
    frames, fps, count = read_video(job.source)
    source = _Source(enhancer, settings, fps)
    writer = VideoWriter(_video_dest(job), fps)
    try:
        for frame in tqdm(frames, total=count or None, desc=job.source.name, unit="frame", leave=False):
            writer.write(source.enhance(frame, side_by_side))
    finally:
        writer.close()
    return source.processor.stats.snapshot().gated


def _image_sources(
    jobs: Iterable[Job], enhancer: Enhancer, settings: StreamSettings | None, fps: float
) -> tuple[dict[Job, _Source], list[_Source]]:
    """({image job: what enhances it}, the streams): with ``settings`` one stream per folder, else the model alone."""
    alone = _Source(enhancer, None)
    streams: dict[Path, _Source] = {}
    sources = {}
    for job in jobs:
        if settings is None:
            sources[job] = alone
            continue
        if job.source.parent not in streams:
            streams[job.source.parent] = _Source(enhancer, settings, fps)
        sources[job] = streams[job.source.parent]
    return sources, list(streams.values())


def run(args: argparse.Namespace) -> int:
    """Enhance every input; failures are reported at the end and make the exit status 1."""
    try:
        params = params_from_args(args)
        jobs = plan_jobs(args.inputs, args.output)
        check_writable(args.output)
        options = {"scale_factor": params["scale_factor"]} if params["scale_factor"] else {}
        amplification = args.amplification if args.amplification is not None else params["amplification"] or None
        if amplification is not None:
            options["amplification"] = amplification
        enhancer = create_enhancer(
            params["model"],
            backend=params["backend"],
            weights=params["weights"] or None,
            device=params["device"],
            **options,
        )
    except MissingWeightsError as exc:
        print(f"llie enhance: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError, OSError, ImportError, RuntimeError) as exc:
        print(f"llie enhance: {exc}", file=sys.stderr)
        return 2

    settings = StreamSettings.from_params(params)
    images = [job for job in jobs if not job.is_video and not job.is_raw]
    sources, streams = _image_sources(images, enhancer, settings if args.sequence else None, args.fps)
    failures: list[str] = []
    gated = 0
    with tqdm(total=len(jobs), desc=f"{enhancer.name} ({enhancer.backend})", unit="file") as bar:
        for job in jobs:
            try:
                if job.is_video:
                    gated += _run_video(enhancer, settings, job, args.side_by_side)
                elif job.is_raw:
                    write_image(
                        job.dest.with_suffix(".png"), enhance_raw(enhancer, read_raw(job.source), args.side_by_side)
                    )
                else:
                    write_image(job.dest, sources[job].enhance(read_image(job.source), args.side_by_side))
            except (ValueError, TypeError, OSError, ImportError) as exc:
                failures.append(str(exc) if str(job.source) in str(exc) else f"{job.source}: {exc}")
                tqdm.write(f"failed: {failures[-1]}", file=sys.stderr)
            bar.update(1)
    gated += sum(s.processor.stats.snapshot().gated for s in streams)
    done = len(jobs) - len(failures)
    print(f"enhanced {done} of {len(jobs)} inputs with {enhancer.name} ({enhancer.backend}) into {args.output}")
    if gated:
        print(f"{gated} stream frames bright enough for the gate (gate_threshold {settings.gate_threshold}) unchanged")
    if failures:
        print(f"{len(failures)} failed:", file=sys.stderr)
        for line in failures:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0
