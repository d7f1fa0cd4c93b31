"""``llie bag make | enhance | eval``: build bags from videos, enhance their image topics, evaluate models on them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llie_core.bag.io import FORMATS, BagError
from llie_core.cli.common import add_detector_options, add_fleet_options, add_params_option, detector_from_args

DEFAULT_EVAL_MODELS = "noise_aware_dce,tiny_dce,zero_dce_pp,clahe"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``llie bag`` and its sub-subcommands."""
    sub = parser.add_subparsers(dest="bag_command", required=True, metavar="ACTION")

    make = sub.add_parser("make", help="a bag from a video file or an image folder")
    make.add_argument("source", type=Path, help="video file or folder of images (sorted by name)")
    make.add_argument("out", type=Path, help="output bag folder (must not exist unless --overwrite)")
    make.add_argument("--topic", default="/camera/image_raw", help="image topic (default /camera/image_raw)")
    make.add_argument(
        "--compressed", action="store_true", help="sensor_msgs/CompressedImage (JPEG) on TOPIC/compressed"
    )
    make.add_argument("--fps", type=float, help="frame rate for the stamps (default: the video's, else 30)")
    make.add_argument("--frame-id", default="camera", help="header frame_id")
    make.add_argument("--start", type=int, default=0, help="skip the source's first START frames (stamps as in it)")
    make.add_argument("--max-frames", type=int, help="stop after this many frames")
    make.add_argument("--size", type=_size, help="resize every frame to WIDTHxHEIGHT (e.g. 1920x1080)")
    make.add_argument("--format", choices=FORMATS, default="mcap", help="storage (default mcap)")
    make.add_argument("--overwrite", action="store_true", help="replace OUT if it is a bag")
    make.set_defaults(func=run_make)

    enh = sub.add_parser("enhance", help="copy a bag and add the enhanced image streams, stats and detections")
    enh.add_argument("input", type=Path, help="ROS 2 bag (sqlite3 or MCAP) or ROS 1 .bag")
    enh.add_argument("out", type=Path, help="output bag folder")
    enh.add_argument("--model", help="enhancement model (default: the parameter file's, else noise_aware_dce)")
    _model_options(enh)
    add_params_option(enh)
    enh.add_argument("--topics", nargs="+", help="image topics to enhance (default: every image topic)")
    add_detector_options(enh)
    enh.add_argument("--format", choices=FORMATS, default="mcap", help="output storage (default mcap)")
    enh.add_argument("--overwrite", action="store_true", help="replace OUT if it is a bag")
    enh.set_defaults(func=run_enhance)

    ev = sub.add_parser("eval", help="compare models on a bag's image topic; writes report.json and report.html")
    ev.add_argument(
        "input",
        nargs="+",
        help="bags to read: bag paths, glob patterns (quoted) or folders of bags; several give one fleet report "
        "with a row per bag (and each bag's own report under OUTPUT/bags/)",
    )
    ev.add_argument(
        "--models",
        default=DEFAULT_EVAL_MODELS,
        help=f"comma-separated (default {DEFAULT_EVAL_MODELS}); each runs without smoothing and, when the parameters "
        "smooth, with the parameters' smoothing",
    )
    _model_options(ev)
    add_params_option(ev)
    ev.add_argument("--topic", help="image topic (default: the first image topic)")
    add_detector_options(ev)
    ev.add_argument("-o", "--output", type=Path, default=Path("bag_report"), help="report folder")
    ev.add_argument("--max-frames", type=int, default=300, help="frames to evaluate per bag (default 300)")
    ev.add_argument("--threads", type=int, help="inference threads per network (default: the backend's)")
    add_fleet_options(ev)
    ev.set_defaults(func=run_eval)


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--weights", help="network weights: a file or 'reference[:VARIANT]' (default: shipped, else reference)"
    )
    parser.add_argument("--scale-factor", type=int, help="networks' estimation downscale factor")


def _size(text: str) -> tuple[int, int]:
    """'1920x1080' -> (1920, 1080)."""
    width, sep, height = text.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT (e.g. 1920x1080)")
    return int(width), int(height)


def _params(args: argparse.Namespace, **overrides) -> dict:
    """The node's parameter values: --params, then the model options given on the command line."""
    from llie_core.cli.common import node_params

    return node_params(args.params, weights=args.weights, scale_factor=args.scale_factor, **overrides)


def _fail(command: str, exc: Exception) -> int:
    print(f"llie bag {command}: {exc}", file=sys.stderr)
    return 2


def run_make(args: argparse.Namespace) -> int:
    """Write the bag; print what was written."""
    from llie_core.bag.make import make_bag

    try:
        result = make_bag(
            args.source,
            args.out,
            topic=args.topic,
            fps=args.fps,
            compressed=args.compressed,
            fmt=args.format,
            frame_id=args.frame_id,
            skip=args.start,
            max_frames=args.max_frames,
            size=args.size,
            overwrite=args.overwrite,
        )
    except (BagError, ValueError, OSError) as exc:
        return _fail("make", exc)
    print(
        f"{result.path}: {result.frames} frames on {result.image_topic} and {result.info_topic} at {result.fps:g} fps"
    )
    return 0


def run_enhance(args: argparse.Namespace) -> int:
    """Enhance the bag; 1 when frames were skipped or reading broke, 130 when interrupted (output still readable)."""
    from llie_core.bag.enhance import enhance_bag
    from llie_core.cli.common import enhancer_from_params
    from llie_core.stream import StreamSettings

    try:
        params = _params(args, model=args.model)
        enhancer, weights = enhancer_from_params(params)
        report = enhance_bag(
            args.input,
            args.out,
            enhancer,
            settings=StreamSettings.from_params(params),
            topics=args.topics,
            detector=detector_from_args(args),
            fmt=args.format,
            overwrite=args.overwrite,
        )
    except (BagError, ValueError, OSError, ImportError) as exc:
        return _fail("enhance", exc)
    frames = sum(report.frames.values())
    rate = frames / report.seconds if report.seconds > 0 else 0.0
    if report.note:
        print(f"llie bag enhance: {report.note}", file=sys.stderr)
    for topic, out in report.topics.items():
        print(
            f"{topic} -> {out}: {report.frames[topic]} frames ({enhancer.name}, {enhancer.backend}, {weights}; "
            f"{report.gated[topic]} gated, {report.lost[topic]} missing from the recording)"
        )
    for topic, out in report.camera_infos.items():
        print(f"{topic} -> {out}: passed through")
    print(f"{report.output}: {report.copied} messages copied, {frames} enhanced at {rate:.1f} frames/s", end="")
    print(f", {report.detections} detections" if args.detector else "")
    for reason, count in report.skipped.items():
        print(f"skipped {count} frames: {reason}", file=sys.stderr)
    if report.error:
        print(f"llie bag enhance: {report.error}; output holds everything before it", file=sys.stderr)
    if report.interrupted:
        print(f"interrupted; {report.output} holds the messages written so far", file=sys.stderr)
        return 130
    return 1 if report.error or report.skipped else 0


def run_eval(args: argparse.Namespace) -> int:
    """Evaluate the models on one bag, or on many (serially or on Ray) into one fleet report."""
    from llie_core.bag.fleet import find_bags

    try:
        bags = find_bags(args.input)
        params = _params(args)
    except (BagError, ValueError) as exc:
        return _fail("eval", exc)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if len(bags) > 1 or args.ray is not None:
        return _run_fleet_eval(args, bags, params, models)
    from llie_core.bag.evaluate import evaluate_frames, read_frames
    from llie_core.bag.report import write_report
    from llie_core.cli.common import enhancer_from_params
    from llie_core.stream import StreamSettings

    try:
        data = read_frames(bags[0], args.topic, args.max_frames)
        enhancers = {name: enhancer_from_params(params, model=name, threads=args.threads) for name in models}
        results, thumbs = evaluate_frames(
            data, enhancers, settings=StreamSettings.from_params(params), detector=detector_from_args(args)
        )
        json_path, html_path = write_report(results, thumbs, args.output)
    except (BagError, ValueError, OSError, ImportError) as exc:
        return _fail("eval", exc)
    inp = results["input"]
    print(f"{data.topic}: {inp['frames']} frames, {inp['lost']} missing from the recording")
    _print_models(results["models"])
    if data.error:
        print(f"llie bag eval: {data.error}", file=sys.stderr)
    print(f"report: {json_path} {html_path}")
    return 1 if data.error else 0


def _run_fleet_eval(args: argparse.Namespace, bags: list[Path], params: dict, models: list[str]) -> int:
    """One task per bag (serially, or on Ray with --ray), merged into one report; 1 when a bag failed."""
    from llie_core.bag.fleet import BagTask, evaluate_bag, failed_bag, merge_bags
    from llie_core.bag.fleet_report import write_bag_report, write_fleet_report
    from llie_core.fleet import FleetError, run_tasks

    detector = None
    if args.detector:
        if not args.detector.is_file():
            return _fail("eval", BagError(f"--detector {args.detector}: no such file"))
        detector = (str(args.detector.absolute()), args.conf, args.imgsz)
    # Workers may run elsewhere: absolute paths, the same on every worker (or a shared filesystem).
    tasks = [
        BagTask(str(b.absolute()), tuple(models), params, args.topic, args.max_frames, detector, args.threads)
        for b in bags
    ]
    try:
        outcomes = run_tasks(
            evaluate_bag,
            tasks,
            args.ray,
            args.workers,
            failed=failed_bag,
            each=lambda i, outcome: write_bag_report(i, outcome, args.output),
            desc="bags",
        )
        fleet = merge_bags(outcomes)
        json_path, html_path = write_fleet_report(fleet, outcomes, args.output)
    except (BagError, FleetError, OSError) as exc:
        return _fail("eval", exc)
    inp = fleet["input"]
    print(f"{inp['bags']} bags, {inp['frames']} frames, {inp['lost']} missing from the recordings")
    for row in fleet["bags"]:
        if row["error"] is None:
            print(f"  {row['bag']}: {row['frames']} frames, {row['wall_s']:.1f} s on {row['host']}")
    print("fleet totals:")
    _print_models(fleet["models"])
    for error in inp["failed"] + inp["read_errors"]:
        print(f"llie bag eval: {error}", file=sys.stderr)
    print(f"report: {json_path} {html_path}")
    return 1 if inp["failed"] or inp["read_errors"] else 0


def _print_models(models: dict) -> None:
    """The models' speed, brightness, LOE, gating and flicker as a text table."""
    from llie_core.bag.report import percent_text, ratio_text

    print("flicker: mean |ΔL| / L per frame in %, global and on a 4×4 grid (local); x: output over input")
    name_width = max(12, *(len(n) for n in models))
    print(
        f"{'model':<{name_width}} {'median ms':>9} {'fps':>7} {'bright':>7} {'LOE':>7} {'gated':>6} "
        f"{'flicker in':>10} {'out':>8} {'x':>6} {'local in':>8} {'out':>8} {'x':>6}"
    )
    for name, m in models.items():
        glob, local = m["flicker"], m["local_flicker"]
        print(
            f"{name:<{name_width}} {m['latency_ms']['median']:9.2f} {m['throughput_fps']:7.1f} "
            f"{m['quality']['brightness']['after']:7.3f} {m['loe']:7.1f} {m['gated_frames']:6d} "
            f"{percent_text(glob['input']):>10} {percent_text(glob['output']):>8} {ratio_text(glob['ratio']):>6} "
            f"{percent_text(local['input']):>8} {percent_text(local['output']):>8} {ratio_text(local['ratio']):>6}"
        )
