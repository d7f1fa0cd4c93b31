"""sgz's training-side NIQE proxy (issue 14): folders of links to images no evaluation set holds.

SICE part 1 images that sgz's training (training/configs/sgz.yaml: its seed, epochs and images per epoch) never drew,
banded by the input's mean brightness (sice_dark [0, 0.1), sice_mid [0.1, 0.2), sice_normal [0.2, 0.35)), ``--per-band``
of each drawn with numpy's default_rng(``--seed``); plus ../shared/data/lowlight/zerodcepp_real and
../shared/data/night/bdd100k_night whole. Then, per candidate:

    python benchmarks/sgz_proxy.py runs/proxy14
    llie eval quality LABEL=sgz:PTH@12 --data runs/proxy14/{sice_dark,sice_mid,sice_normal,zerodcepp_real,bdd100k_night}
        --max-side 512 --threads 1
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from training.config import load_config, resolve_path
from training.engine import PatchSampler, list_images, read_rgb

BANDS = {"sice_dark": (0.0, 0.1), "sice_mid": (0.1, 0.2), "sice_normal": (0.2, 0.35)}
WHOLE = ("../shared/data/lowlight/zerodcepp_real", "../shared/data/night/bdd100k_night")


def undrawn(config: Path) -> list[Path]:
    """The training images of ``config`` that no epoch of its run drew (PatchSampler's seeded order)."""
    cfg = load_config(config)
    files = list_images(cfg.data.root, cfg.data.limit)
    return [files[i] for i in PatchSampler(files, cfg).undrawn()]


def build(out: Path, config: Path, per_band: int, seed: int) -> dict[str, int]:
    """Write the proxy folders (symbolic links) under ``out``; returns images per folder."""
    files = undrawn(config)
    brightness = [float(read_rgb(f).mean()) / 255.0 for f in files]
    rng = np.random.default_rng(seed)
    counts = {}
    for band, (lo, hi) in BANDS.items():
        pool = sorted(f.name for f, b in zip(files, brightness, strict=True) if lo <= b < hi)
        if len(pool) < per_band:
            raise ValueError(f"band {band}: {len(pool)} undrawn images, fewer than --per-band {per_band}")
        folder = out / band
        folder.mkdir(parents=True, exist_ok=True)
        for name in rng.choice(pool, per_band, replace=False):
            os.symlink(files[0].parent.resolve() / name, folder / name)
        counts[band] = per_band
    for src in WHOLE:
        os.symlink(resolve_path(src).resolve(), out / Path(src).name)
        counts[Path(src).name] = len(list_images(src))
    return counts


def main() -> None:
    """Command line: build the proxy folders."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="new folder for the proxy")
    parser.add_argument("--config", type=Path, default=Path("training/configs/sgz.yaml"))
    parser.add_argument("--per-band", type=int, default=25)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    if args.out.exists():
        raise SystemExit(f"{args.out} exists: give a new folder")
    for folder, n in build(args.out, args.config, args.per_band, args.seed).items():
        print(f"{folder}: {n} images")


if __name__ == "__main__":
    main()
