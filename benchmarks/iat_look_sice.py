"""PSNR to the IAT teacher on SICE images a fine-tune never drew: the second proxy of iat_student_look.yaml's rule.

The images are every 6th of those the fine-tune never drew (training.engine's PatchSampler.undrawn), taken
from the teacher cache of iat_student.yaml (256x256 inputs and the teacher's outputs); each student runs at
s = 1 (the card's point at 256x256). The PSNR is of 8-bit outputs, per image, averaged; also per band of input mean.

    python benchmarks/iat_look_sice.py base=runs/iat_student/model.pth look0.1=runs/cand_look0.1/model.pth ...
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from llie_core import metrics
from llie_core.models import create_model
from llie_core.registry import resolve_weights
from training.config import REPO_ROOT, load_config
from training.engine import PatchSampler, list_images
from training.iat_student import cache_folder

BANDS = ((0.0, 0.1), (0.1, 0.4), (0.4, 0.6), (0.6, 1.01))
EVERY = 6


def _uint8(x: np.ndarray) -> np.ndarray:
    """N×3×H×W floats in [0, 1] → N×H×W×3 uint8 (rounded)."""
    return (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)


def main() -> int:
    """Print each student's mean PSNR to the teacher over the held-back images, overall and per input-mean band."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("students", nargs="+", help="LABEL=WEIGHTS (iat_student checkpoints)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    base = load_config(REPO_ROOT / "training" / "configs" / "iat_student.yaml")
    look = load_config(REPO_ROOT / "training" / "configs" / "iat_student_look.yaml")
    files = list_images(base.data.root, base.data.limit)
    folder = cache_folder(base, files, resolve_weights(base.iat.teacher, base.iat.teacher_weights))
    if list_images(look.data.root, look.data.limit) != files:
        raise ValueError("iat_student_look.yaml trains on other images than the teacher cache of iat_student.yaml")
    idx = PatchSampler(files, look).undrawn()[::EVERY]
    x = torch.from_numpy(np.load(folder / "inputs.npy", mmap_mode="r")[idx].astype(np.float32) / 255)
    teacher = _uint8(np.asarray(np.load(folder / "outputs.npy", mmap_mode="r")[idx], dtype=np.float32))
    means = x.mean(dim=(1, 2, 3)).numpy()
    for spec in args.students:
        label, _, weights = spec.partition("=")
        model = create_model("iat_student", weights=weights, scale_factor=1)
        with torch.no_grad():
            out = _uint8(torch.cat([model(x[i : i + 16]) for i in range(0, len(x), 16)]).numpy())
        psnr = np.array([metrics.psnr(a, b) for a, b in zip(out, teacher, strict=True)])
        bands = " ".join(
            f"{lo:g}-{min(hi, 1):g}: {psnr[m].mean():.2f} ({m.sum()})"
            for lo, hi in BANDS
            if (m := (means >= lo) & (means < hi)).any()
        )
        print(f"{label}: {len(idx)} images, PSNR to the teacher {psnr.mean():.3f} dB; by input mean {bands}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
