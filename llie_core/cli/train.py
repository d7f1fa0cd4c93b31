"""``llie train CONFIG.yaml``: run a training config of the training/ workspace (same as ``python -m training``)."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``llie train``."""
    try:
        from training.__main__ import build_parser
    except ImportError:  # an installed llie without the training workspace beside it
        build_parser = None
    parser = subparsers.add_parser("train", help="train or distil a model from a training/configs/*.yaml config")
    if build_parser is not None:
        build_parser(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Delegate to training/ (needs the repository checkout, torch, pyyaml and matplotlib)."""
    try:
        from training.__main__ import run_from_args
    except ImportError as exc:
        print(
            f"error: llie train needs the repository's training/ package and its extras [train]: {exc}", file=sys.stderr
        )
        return 2
    return run_from_args(args, ["llie", "train", *sys.argv[2:]])
