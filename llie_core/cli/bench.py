"""``llie bench``: latency per model × backend × resolution × threads, with copy and torch-eager baselines.

Networks are also timed in their two parts (estimate, apply), and a student benched beside its teacher
(``--models iat,iat_student --resolutions 256x256,600x400,1920x1080``) gets a speed-ratio table. The noise-aware
model also gets a row per ``--noise`` regime (frames darkened with it: its time depends on the frame's noise).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
from pathlib import Path

from tqdm import tqdm

from llie_core.bench import (
    CAMERA_RESOLUTIONS,
    NOISY_REGIMES,
    RESOLUTIONS,
    as_dicts,
    bench_frames,
    bench_noisy_frames,
    bench_one,
    bench_raw_frames,
    plot_rows,
    ratios_table,
    rows_table,
    set_threads,
    speed_ratios,
    time_per_frame,
    torch_eager,
    torch_eager_raw,
)
from llie_core.cli.common import REFERENCE, enhancer_or_reference
from llie_core.noise import NoiseRegime, parse_regime
from llie_core.registry import DEFAULT_MODEL, get_spec, list_specs

# The shipped curve models and every classical method (zero_dce runs at full resolution: ~1 s per 1080p frame).
DEFAULT_MODELS = [DEFAULT_MODEL, "tiny_dce", "zero_dce_pp", *(s.name for s in list_specs("classical"))]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``llie bench``."""
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated; default: all")
    parser.add_argument("--backends", default="onnxruntime", help="comma-separated: onnxruntime, torch")
    parser.add_argument(
        "--resolutions", default=",".join(CAMERA_RESOLUTIONS), help=f"of {', '.join(RESOLUTIONS)} (default: 640x480 up)"
    )
    parser.add_argument("--threads", default=f"1,{os.cpu_count()}", help="comma-separated thread counts")
    parser.add_argument("--frames", type=int, default=50, help="timed frames per configuration")
    parser.add_argument("--eager-frames", type=int, default=5, help="frames timed on the torch eager baseline")
    parser.add_argument(
        "--scale-factor", type=int, help="networks' estimation downscale (default: each model's, e.g. 1 for iat)"
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        default=30.0,
        help="stop timing a series after this many seconds (at least 3 frames): for slow models such as iat at s=1",
    )
    parser.add_argument(
        "--noise",
        nargs="*",
        default=list(NOISY_REGIMES),
        help="noise regimes of the noise-aware model's extra rows on darkened frames: bench ones or as llie eval "
        "detect reads them (heavy, NAME=k:16,fw:400,read:2); none without a value (default: %(default)s)",
    )
    parser.add_argument("--no-eager", action="store_true", help="skip the torch eager baseline")
    parser.add_argument("--quick", action="store_true", help="smoke run: 640x480, 5 frames, 1 thread")
    parser.add_argument("-o", "--output", type=Path, default=Path("bench_out"), help="folder for JSON and PNG")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run every configuration, print the table, write bench.json and bench.png."""
    if args.quick:
        args.resolutions, args.threads, args.frames, args.eager_frames = "640x480", "1", 5, 2
    models = args.models.split(",")
    backends = args.backends.split(",")
    threads_list = [int(t) for t in args.threads.split(",")]
    unknown = [r for r in args.resolutions.split(",") if r not in RESOLUTIONS]
    if unknown:
        print(f"llie bench: unknown resolutions {unknown}; valid: {', '.join(RESOLUTIONS)}", file=sys.stderr)
        return 2
    try:
        noisy = [_bench_regime(text) for text in args.noise]
    except ValueError as exc:
        print(f"llie bench: --noise: {exc}", file=sys.stderr)
        return 2
    has_torch = importlib.util.find_spec("torch") is not None and not args.no_eager
    rows, sources = [], set()
    darkened: dict[tuple[str, NoiseRegime], list] = {}  # noisy frames per resolution, made once per run (seconds at 4K)
    configs = [(r, t, m) for r in args.resolutions.split(",") for t in threads_list for m in models]
    for resolution, threads, name in tqdm(configs, desc="bench", unit="config"):
        try:
            spec = get_spec(name)
        except ValueError as exc:
            tqdm.write(f"skipping {name}: {exc}")
            continue
        network, raw = spec.is_network, spec.kind == "raw"
        frames, source = (bench_raw_frames if raw else bench_frames)(*RESOLUTIONS[resolution], args.frames)
        sources.add(source)
        set_threads(threads)
        arrays = [f.data for f in frames] if raw else frames  # a RAW frame's copy baseline is its mosaic's
        copy_ms = statistics.median(time_per_frame(lambda f: f.copy(), arrays))
        options = {"scale_factor": args.scale_factor} if network and args.scale_factor else {}
        for backend in backends if network else ["numpy"]:
            try:
                enhancer, label = enhancer_or_reference(name, backend=backend, threads=threads, **options)
            except (ValueError, FileNotFoundError, ImportError, RuntimeError) as exc:
                tqdm.write(f"skipping {name} on {backend}: {exc}")
                continue
            weights = "reference" if label == REFERENCE else None
            scale = enhancer.scale_factor_for(*frames[0].shape[:2]) if network and not raw else None
            eager = None
            if raw and has_torch and enhancer.scale_factor == 1:
                eager = torch_eager_raw(name, weights)
            elif network and not raw and has_torch:
                eager = torch_eager(name, weights, scale)
            rows.append(bench_one(enhancer, label, frames, threads, copy_ms, eager, args.eager_frames, args.budget_s))
            for regime in noisy if spec.kind == "denoise_curve" else []:
                if (resolution, regime) not in darkened:
                    noisy_frames, source = bench_noisy_frames(*RESOLUTIONS[resolution], args.frames, regime)
                    darkened[resolution, regime] = noisy_frames
                    sources.add(source)
                noisy_frames = darkened[resolution, regime]
                row = bench_one(enhancer, label, noisy_frames, threads, copy_ms, None, 0, args.budget_s, regime.name)
                rows.append(row)
    print(f"frames: {'; '.join(sorted(sources))}")
    print(rows_table(rows))
    ratios = speed_ratios(rows)
    if ratios:
        print("\nspeed ratio student : teacher (teacher's median time over the student's; torch: the eager baseline's)")
        print(ratios_table(ratios))
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "bench.json").write_text(json.dumps(as_dicts(rows), indent=2))
    if ratios:
        (args.output / "ratios.json").write_text(json.dumps(ratios, indent=2))
    print(f"wrote {args.output / 'bench.json'}")
    if plot_rows(rows, args.output / "bench.png"):
        print(f"wrote {args.output / 'bench.png'}")
    return 0


def _bench_regime(text: str) -> NoiseRegime:
    """A regime of NOISY_REGIMES by name, else as ``noise.parse_regime`` reads it."""
    return NOISY_REGIMES[text] if text in NOISY_REGIMES else parse_regime(text)
