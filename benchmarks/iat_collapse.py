"""Collapsed outputs of an IAT-family model over the standard low-light test sets (../shared/data/lowlight).

A frame collapses when the output's mean is < 0.02 while the input's mean is > 0.05 (issue 13). The
published IAT student does this on the brighter images: its global head predicts an all-negative colour
matrix, so clamp(M·y, 1e-8, 1) is ~0 everywhere. Every image runs at its own resolution (RGB, [0, 1]).

    python benchmarks/iat_collapse.py [--model iat_student] [--weights reference|shipped|PATH] [--scale-factor 1]
                                      [--sets dicm,lime,...]
"""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np
import torch
from tqdm import tqdm

from llie_core.models import create_model
from llie_core.registry import shared_dir

STANDARD_SETS = ("dicm", "lime", "lol_eval15_low", "sci_easy", "sci_medium", "sci_difficult")
DARK_OUTPUT, LIT_INPUT = 0.02, 0.05


def main() -> int:
    """Print one line per collapsed image, then the count per set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="iat_student")
    parser.add_argument("--weights", default="reference", help="reference, shipped (llie_core/weights) or a path")
    parser.add_argument("--sets", default=",".join(STANDARD_SETS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scale-factor", type=int, default=1, help="estimate at 1/s, apply at full resolution")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    weights = None if args.weights == "shipped" else args.weights
    model = create_model(args.model, weights=weights, scale_factor=args.scale_factor)
    root = shared_dir() / "data" / "lowlight"
    files = [f for s in args.sets.split(",") for f in sorted((root / s).iterdir()) if f.is_file()]
    rows = []
    for path in tqdm(files, desc=args.model):
        rgb = cv2.imread(str(path), cv2.IMREAD_COLOR)[:, :, ::-1] / np.float32(255)
        x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
        with torch.inference_mode():
            out, _, params = model.enhance_with_maps(x)
        matrix = params[0, 1:].numpy()
        rows.append(
            {
                "set": path.parent.name,
                "image": path.name,
                "input_mean": float(rgb.mean()),
                "output_mean": float(out.mean()),
                "gamma": float(params[0, 0]),
                "matrix_all_negative": bool((matrix < 0).all()),
                "matrix_row_sums": matrix.reshape(3, 3).sum(axis=1).round(3).tolist(),
            }
        )
    collapsed = [r for r in rows if r["output_mean"] < DARK_OUTPUT and r["input_mean"] > LIT_INPUT]
    for r in collapsed:
        print(json.dumps(r))
    print(f"\n{args.model} ({args.weights}, s = {args.scale_factor}): {len(collapsed)} of {len(rows)} images collapse")
    for name in args.sets.split(","):
        in_set = [r for r in rows if r["set"] == name]
        bad = [r for r in collapsed if r["set"] == name]
        negative = sum(r["matrix_all_negative"] for r in in_set)
        print(f"  {name:<16} {len(bad):>3} / {len(in_set):<3} collapsed; all-negative colour matrix on {negative}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
