"""``python -m training CONFIG.yaml [--resume] [--set key=value ...]``: run one training config."""

from __future__ import annotations

import argparse
import shlex
import sys

import yaml

from training.config import ConfigError, load_config


def build_parser() -> argparse.ArgumentParser:
    """Arguments of a training run."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    parser.add_argument("config", help="training config YAML (see training/configs/)")
    parser.add_argument("--resume", action="store_true", help="continue from the run's checkpoint_last.pt")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key (dotted, e.g. optim.lr=1e-3; value parsed as YAML); repeatable",
    )
    parser.add_argument(
        "--teacher",
        default=None,
        help="distillation teacher weights: a path, or 'reference' for the published TinyDCE teacher",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def run_from_args(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    """Load the config named in ``args`` and train; exit status 0 on success, 2 on a config error."""
    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"error: --set expects KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        overrides[key.strip()] = yaml.safe_load(value)
    if args.teacher:
        overrides["distill.teacher_weights"] = args.teacher
    try:
        cfg = load_config(args.config, overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    command = " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv))
    if cfg.mode == "iat_distill":
        from training.iat_student import train_iat_distill

        run_dir = train_iat_distill(cfg, resume=args.resume, command=command, progress=not args.no_progress)
    elif cfg.mode == "raw":
        from training.llpacknet import train_raw

        run_dir = train_raw(cfg, resume=args.resume, command=command, progress=not args.no_progress)
    elif cfg.mode == "distill":
        from training.distill import train_distill

        run_dir = train_distill(cfg, resume=args.resume, command=command, progress=not args.no_progress)
    elif cfg.mode == "detection_aware":
        from training.noise_aware import train_detection_aware

        run_dir = train_detection_aware(cfg, resume=args.resume, command=command, progress=not args.no_progress)
    elif cfg.mode == "sgz":
        from training.sgz import train_sgz

        run_dir = train_sgz(cfg, resume=args.resume, command=command, progress=not args.no_progress)
    else:
        from training.zero_reference import train_zero_reference

        run_dir = train_zero_reference(cfg, resume=args.resume, command=command, progress=not args.no_progress)
    print(f"run finished: {run_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m training``."""
    args = build_parser().parse_args(argv)
    return run_from_args(args, ["python", "-m", "training", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    sys.exit(main())
