"""Paired comparison of enhancers in ``llie eval detect``, with bootstrap standard errors over images.

``run`` evaluates models as ``llie eval detect`` does (its shard path: ``detect_fleet.run_shard`` over consecutive
runs of images, merged by ``detect_fleet.merge``, so the table equals one ``llie eval detect`` run with the same
options) and keeps every per-image AP record in a pickle. Noise draws depend only on (seed, image, regime), so runs of
different models over the same images pair exactly; ``compare`` pools the pickles, prints each row's AP50 per regime
with its bootstrap standard error, and for each ``--cand`` row the paired difference against each ``--vs`` row (the
same resampled images for both): the mean difference, its standard error and the fraction of resamples above 0.
Meant for choosing between candidates on a TRAINING part (``--part train``), never on the held-out part.

    python benchmarks/detect_paired.py run --models zero_dce_pp sgz_published=sgz:reference -o runs/paired/base.pkl
    python benchmarks/detect_paired.py compare runs/paired/*.pkl --cand sgz --vs zero_dce_pp sgz_published
"""

from __future__ import annotations

import argparse
import pickle
import time
from pathlib import Path

import numpy as np

from llie_core import detect_eval, detect_fleet
from llie_core.detect_report import format_table
from llie_core.noise import parse_regime

DATA = Path("../shared/data/detect/highway_dev")
DETECTOR = Path("../shared/models/detect/yolov8n.pt")


def run(args: argparse.Namespace) -> None:
    """Evaluate ``args.models`` shard by shard (progress per shard) and pickle the per-image records."""
    dataset = detect_eval.load_dataset(args.data.resolve(), None, args.part)
    tasks = detect_fleet.plan_shards(
        [dataset],
        args.shards,
        0,
        stages=tuple(args.models),
        regimes=tuple(parse_regime(r) for r in args.regimes),
        detector=detect_fleet.DetectorSpec(str(args.detector.resolve()), 0.001),
        seed=args.seed,
        threads=1,
    )
    start, outcomes = time.perf_counter(), []
    for i, task in enumerate(tasks):
        outcome = detect_fleet.run_shard(task)
        if outcome["error"]:
            raise SystemExit(outcome["error"])
        outcomes.append(outcome)
        print(f"shard {i + 1}/{len(tasks)} {time.perf_counter() - start:.0f} s", flush=True)
    results, _ = detect_fleet.merge([dataset], tasks, outcomes)
    print(format_table(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "wb") as fh:
        pickle.dump({"models": args.models, "names": dataset.names, "outcomes": outcomes, "results": results}, fh)
    print(f"{time.perf_counter() - start:.0f} s; {args.output}")


def pooled_records(paths: list[Path]) -> tuple[list[str], dict[str, dict[str, list]]]:
    """(class names, regime → row → per-image AP records) from ``run`` pickles over the same images."""
    rows: dict[str, dict[str, list]] = {}
    names, order = None, None
    for path in paths:
        with open(path, "rb") as fh:
            data = pickle.load(fh)  # our own pickles, written by ``run``
        names, outcomes = data["names"], data["outcomes"]
        for regime, tracks in outcomes[0]["gathered"]["tracks"].items():
            for row in tracks:
                records = [r for o in outcomes for r in o["gathered"]["tracks"][regime][row]["ap"]]
                images = [r["im_name"] for r in records]
                order = order or images
                if images != order:
                    raise ValueError(f"{path}: not the images of the other runs")
                rows.setdefault(regime, {}).setdefault(row, records)  # the dark row repeats in every run
    return names, rows


def ap50(records: list, names: list[str], picks) -> float:
    """AP50 (%) over the records at ``picks`` (image indices, repeats allowed)."""
    acc = detect_eval.APAccumulator(names)
    for i in picks:
        acc.add_record(records[i])
    return 100 * acc.result()["map50"]


def compare(args: argparse.Namespace) -> None:
    """Print AP50 per regime and row with bootstrap SEs, and the paired differences of --cand against --vs."""
    names, rows = pooled_records(args.pickles)
    n = len(next(iter(next(iter(rows.values())).values())))
    rng = np.random.default_rng(args.seed)
    samples = [rng.integers(0, n, n) for _ in range(args.resamples)]
    for regime, by_row in rows.items():
        full = {r: ap50(rec, names, range(n)) for r, rec in by_row.items()}
        boot = {r: np.array([ap50(rec, names, s) for s in samples]) for r, rec in by_row.items()}
        print(f"== {regime} ({n} images, {args.resamples} resamples)")
        for r in by_row:
            print(f"  {r:20s} {full[r]:6.2f}  se {boot[r].std():.2f}")
        for c in (c for c in args.cand if c in by_row):
            for v in (v for v in args.vs if v in by_row and v != c):
                diff = boot[c] - boot[v]
                print(f"  {c} - {v}: {full[c] - full[v]:+.2f}  se {diff.std():.2f}  P(>0) {np.mean(diff > 0):.2f}")


def main() -> None:
    """Entry point: run | compare."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("--models", nargs="+", required=True, help="stage specs, as llie eval detect --models")
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--part", default="train", choices=("train", "eval", "all"))
    p.add_argument("--regimes", nargs="+", default=["none", "moderate", "heavy"])
    p.add_argument("--detector", type=Path, default=DETECTOR)
    p.add_argument("--seed", type=int, default=1, help="noise seed")
    p.add_argument("--shards", type=int, default=14, help="progress steps (the figures do not depend on it)")
    p.add_argument("-o", "--output", type=Path, required=True)
    p.set_defaults(func=run)
    p = sub.add_parser("compare")
    p.add_argument("pickles", nargs="+", type=Path)
    p.add_argument("--cand", nargs="*", default=[])
    p.add_argument("--vs", nargs="*", default=["zero_dce_pp", "sgz_published"])
    p.add_argument("--resamples", type=int, default=100)
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.set_defaults(func=compare)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
