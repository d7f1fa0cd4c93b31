"""Paired comparison of enhancers in ``llie eval detect``, with bootstrap standard errors over images.

``run`` evaluates models as ``llie eval detect`` does (its shard path: ``detect_fleet.run_shard`` over consecutive
runs of images, merged by ``detect_fleet.merge``, so the table equals one ``llie eval detect`` run with the same
options) and keeps every per-image AP record in an ``.npz`` of plain arrays (read with ``allow_pickle=False``). Noise
draws depend only on (seed, image, regime), so runs of different models over the same images pair exactly;
``compare`` pools the runs, prints each row's AP50 per regime with its bootstrap standard error, and for each
``--cand`` row the paired difference against each ``--vs`` row (the same resampled images for both): the mean
difference, its standard error and the fraction of resamples above 0.
Meant for choosing between candidates on a TRAINING part (``--part train``), never on the held-out part.

    python benchmarks/detect_paired.py run --models zero_dce_pp sgz_published=sgz:reference -o runs/paired/base.npz
    python benchmarks/detect_paired.py compare runs/paired/*.npz --cand sgz --vs zero_dce_pp sgz_published
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from llie_core import detect_eval, detect_fleet
from llie_core.detect_report import format_table
from llie_core.noise import parse_regime

DATA = Path("../shared/data/detect/highway_dev")
DETECTOR = Path("../shared/models/detect/yolov8n.pt")


def run(args: argparse.Namespace) -> None:
    """Evaluate ``args.models`` shard by shard (progress per shard) and save the per-image records."""
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
    tracks = {
        regime: {row: [r for o in outcomes for r in o["gathered"]["tracks"][regime][row]["ap"]] for row in rows}
        for regime, rows in outcomes[0]["gathered"]["tracks"].items()
    }
    save_records(args.output, dataset.names, tracks)
    print(f"{time.perf_counter() - start:.0f} s; {args.output}")


RECORD_ARRAYS = ("tp", "conf", "pred_cls", "target_cls")  # per image; target_img is unique(target_cls)


def save_records(path: Path, names: list[str], tracks: dict[str, dict[str, list]]) -> None:
    """Write regime → row → per-image AP records as one ``.npz`` of concatenated arrays and per-image counts."""
    arrays: dict[str, np.ndarray] = {}
    index = []
    for regime, rows in tracks.items():
        for row, records in rows.items():
            key = len(index)
            index.append([regime, row])
            for field in RECORD_ARRAYS:
                parts = [np.asarray(r[field]) for r in records]
                arrays[f"{key}_{field}"] = np.concatenate(parts)
                arrays[f"{key}_{field}_counts"] = np.array([len(p) for p in parts], np.int64)
            arrays[f"{key}_images"] = np.array([r["im_name"] for r in records])
    meta = {"names": names, "index": index}
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)


def load_records(path: Path) -> tuple[list[str], dict[str, dict[str, list]]]:
    """(class names, regime → row → per-image AP records) from a ``save_records`` file."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        tracks: dict[str, dict[str, list]] = {}
        for key, (regime, row) in enumerate(meta["index"]):
            split = {f: np.split(data[f"{key}_{f}"], np.cumsum(data[f"{key}_{f}_counts"])[:-1]) for f in RECORD_ARRAYS}
            tracks.setdefault(regime, {})[row] = [
                {f: split[f][i] for f in RECORD_ARRAYS}
                | {"target_img": np.unique(split["target_cls"][i]), "im_name": str(name)}
                for i, name in enumerate(data[f"{key}_images"])
            ]
    return meta["names"], tracks


def pooled_records(paths: list[Path]) -> tuple[list[str], dict[str, dict[str, list]]]:
    """(class names, regime → row → per-image AP records) from ``run`` outputs over the same images."""
    rows: dict[str, dict[str, list]] = {}
    names, order = None, None
    for path in paths:
        names, tracks = load_records(path)
        for regime, by_row in tracks.items():
            for row, records in by_row.items():
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
    names, rows = pooled_records(args.records)
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
    p.add_argument("records", nargs="+", type=Path, help="run outputs (.npz)")
    p.add_argument("--cand", nargs="*", default=[])
    p.add_argument("--vs", nargs="*", default=["zero_dce_pp", "sgz_published"])
    p.add_argument("--resamples", type=int, default=100)
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.set_defaults(func=compare)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
