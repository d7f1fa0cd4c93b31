"""``llie eval raw``: a RAW model on synthetic dark RAW frames of held-out images, against naive pipelines.

Each held-out image (default: ../shared/data/detect/highway_dev, its evaluation part, never trained on) is
auto-exposed to the reference, sensed as a dark RAW mosaic through its own random camera at each regime (raw100,
raw300: light ÷100 and ÷300, shot and read noise of a 14-bit sensor), and restored by: the naive pipeline
(demosaic, true ratio, gamma), the naive pipeline and an RGB enhancer (default tiny_dce), the camera's own
rendering of the noisy frame, the RAW model with its metered amplification, and with the true ratio. PSNR/SSIM
against the reference and the amplification estimate's accuracy go to stdout, report.json and examples.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SUMMARY = "a RAW model (llpacknet_fast, llpacknet) on synthetic dark RAW frames: PSNR/SSIM vs naive, amplification"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``llie eval raw``."""
    parser.add_argument("data", nargs="?", type=Path, help="YOLO-layout folder (its held-out part) or image folder")
    parser.add_argument(
        "--model",
        default="llpacknet_fast",
        help="RAW model as MODEL[:WEIGHTS] (default: llpacknet_fast, the Bayer default; llpacknet: the paper topology)",
    )
    parser.add_argument("--enhancer", default="tiny_dce", help="RGB enhancer after the naive pipeline")
    parser.add_argument("--regimes", nargs="+", default=["raw100", "raw300"], help="raw100, raw300 or NAME=k:...")
    parser.add_argument("--max-images", type=int, help="only the first N images (by name)")
    parser.add_argument("--pattern", default="RGGB", choices=("RGGB", "BGGR", "GRBG", "GBRG"), help="Bayer pattern")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (each image and regime its own stream)")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime/torch threads (default 1)")
    parser.add_argument("--backend", default="auto", help="backend of the RAW model (auto, onnxruntime, torch)")
    parser.add_argument(
        "--scale-factor",
        type=int,
        help="the RAW model's binning of the mosaic (default: the model's, 1): its speed knob",
    )
    parser.add_argument("-o", "--output", type=Path, default=Path("eval_raw"), help="report folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate, print the table, write report.json and examples.png; exit status 2 on bad arguments."""
    import cv2
    import numpy as np

    from llie_core import raw_eval
    from llie_core.engine import create_enhancer
    from llie_core.noise import parse_regime
    from llie_core.registry import get_spec, shared_dir

    try:
        if args.max_images is not None and args.max_images < 1:
            raise ValueError(f"--max-images must be >= 1, got {args.max_images}")
        name, _, weights = args.model.partition(":")
        if get_spec(name).kind != "raw":
            raise ValueError(f"--model {name!r} is not a RAW model (llpacknet_fast, llpacknet)")
        regimes = [raw_eval.RAW_REGIMES.get(r) or parse_regime(r) for r in args.regimes]
        files = raw_eval.held_out_images(args.data or shared_dir() / "data" / "detect" / "highway_dev", args.max_images)
        scale = {} if args.scale_factor is None else {"scale_factor": args.scale_factor}
        model = create_enhancer(name, backend=args.backend, weights=weights or None, threads=args.threads, **scale)
        enhancer = create_enhancer(
            args.enhancer, **({"threads": args.threads} if get_spec(args.enhancer).is_network else {})
        )
    except (ValueError, FileNotFoundError, TypeError, ImportError) as exc:
        print(f"llie eval raw: {exc}", file=sys.stderr)
        return 2
    results, strips = raw_eval.evaluate(files, regimes, model, enhancer, args.seed, args.pattern)
    results |= {
        "model": args.model,
        "enhancer": args.enhancer,
        "backend": model.backend,
        "scale_factor": model.scale_factor,
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "report.json").write_text(json.dumps(results, indent=2))
    rows = [row for regime in strips.values() for row in regime]
    if rows:
        cv2.imwrite(str(args.output / "examples.png"), np.concatenate(rows, axis=0)[:, :, ::-1])
    print(raw_eval.format_table(results))
    print(f"\ncolumns of {args.output / 'examples.png'}: {' | '.join(results['columns'])}")
    print(f"report: {args.output / 'report.json'}")
    return 0
