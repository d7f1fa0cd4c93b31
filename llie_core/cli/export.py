"""``llie export``: a network (curve or IAT model) to ONNX with dynamic H and W."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from llie_core.registry import list_specs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``llie export``."""
    names = [s.name for s in list_specs() if s.is_network]
    parser.add_argument("model", help=f"model name ({', '.join(names)})")
    parser.add_argument("-o", "--output", required=True, type=Path, help="ONNX file to write")
    parser.add_argument("--weights", help="a .pth path or 'reference[:VARIANT]' (default: the shipped weights)")
    parser.add_argument("--scale-factor", type=int, help="estimation at 1/s resolution (full graph only)")
    parser.add_argument(
        "--graph",
        choices=["full", "estimator"],
        default="full",
        help="full: image -> enhanced and the estimate (default); estimator: what `create_enhancer` runs",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export and report the file written."""
    if importlib.util.find_spec("torch") is None:
        print("llie export needs torch: pip install 'llie[torch]'", file=sys.stderr)
        return 2
    from llie_core.export import export_onnx
    from llie_core.models import create_model
    from llie_core.registry import get_spec

    try:
        spec = get_spec(args.model)
        if not spec.is_network:
            raise ValueError(f"{args.model!r} is a classical method; only networks export to ONNX")
        if args.weights is None and not spec.default_weights(".pth").is_file():
            raise FileNotFoundError(
                f"no shipped weights for {args.model!r} (looked for {spec.default_weights('.pth')}); "
                "pass --weights PATH or --weights reference"
            )
        options = {} if args.scale_factor is None else {"scale_factor": args.scale_factor}
        model = create_model(args.model, weights=args.weights, **options)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        export_onnx(model, args.output, graph=args.graph)
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"llie export: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output} ({args.model}, graph={args.graph}, scale_factor={model.scale_factor})")
    return 0
