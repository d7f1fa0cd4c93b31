"""The ``llie`` command: one subcommand per module, each with ``add_arguments`` and a ``func`` it sets.

Only the module of the subcommand being run is imported: every other one is listed from ``SUBCOMMANDS``
alone, so the light commands (and every ``--help``) work without the extras that others need (scipy for
``llie eval``'s metrics, torch for ``llie export``, rosbags for ``llie bag``).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules under llie_core.cli with the line `llie --help` lists for them; each defines
# add_arguments(parser), which adds its arguments and sets func(args) -> exit status.
SUBCOMMANDS = {
    "enhance": "enhance images, folders, globs or videos",
    "models": "list the models and classical methods",
    "export": "export a model to ONNX (needs torch)",
    "demo": "build a night bag, enhance it and write an evaluation report",
    "bench": "time the enhancers against a frame copy and torch eager",
    "eval": "quality of enhanced images (eval quality, the default), detector mAP on darkened images (eval detect), "
    "RAW models on synthetic dark RAW frames (eval raw)",
    "bag": "ROS bag tools: make, enhance, eval",
    "live": "enhance a camera, stream, video or bag live: Foxglove view, MCAP recording, latency",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every subcommand listed, only ``command``'s module imported and its arguments added."""
    parser = argparse.ArgumentParser(prog="llie", description="Low-light image enhancement for robot perception.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in SUBCOMMANDS.items():
        subparser = subparsers.add_parser(name, help=summary, description=summary)
        if name == command:
            importlib.import_module(f"llie_core.cli.{name}").add_arguments(subparser)
    return parser


# Subcommands with sub-commands of their own: (the one meant when none is named, all of them).
NESTED = {"eval": ("quality", ("quality", "detect", "raw"))}


def _with_default_subcommand(argv: list[str]) -> list[str]:
    """``llie eval MODELS...`` means ``llie eval quality MODELS...``, as before ``llie eval detect`` existed."""
    if argv[:1] and argv[0] in NESTED:
        default, names = NESTED[argv[0]]
        if len(argv) == 1 or argv[1] not in (*names, "-h", "--help"):
            return [argv[0], default, *argv[1:]]
    return argv


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``llie`` console script; returns the exit status."""
    argv = _with_default_subcommand(list(sys.argv[1:] if argv is None else argv))
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
