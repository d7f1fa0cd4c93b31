"""How locally sgz-family curve maps adapt (issue 14): mean |gradient| of the estimated maps at the engine's scale.

Each model estimates its curve maps as the engine runs it at ``--scale`` (the frame, longer side <= 512 by INTER_AREA,
bilinearly resized to the estimation size; ``CurveModel.curves`` before the upsampling); the figure is the mean
absolute difference between vertically plus horizontally adjacent map values, averaged over the images. The default
images are the first 12 (by name) of the proxy's sice_dark and zerodcepp_real folders (benchmarks/sgz_proxy.py):
training-side only.

    python benchmarks/sgz_map_gradient.py published=reference zero_dce_pp=llie_core/weights/zero_dce_pp.pth \
        f6=runs/sgz_bright_f6/model.pth
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from llie_core.cli.eval import load_rgb
from llie_core.curves import estimation_size
from llie_core.models import create_model
from training.engine import list_images

PROXY = Path("runs/proxy14")
DEFAULT_FOLDERS = ("sice_dark", "zerodcepp_real")


def map_gradient(model: torch.nn.Module, image: np.ndarray, scale: int) -> float:
    """Mean |vertical| + mean |horizontal| difference of the model's curve maps for one H×W×3 uint8 RGB image."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255.0
    low = F.interpolate(x, size=estimation_size(x.shape[2], x.shape[3], scale), mode="bilinear", align_corners=False)
    with torch.no_grad():
        maps = model.estimate(low)
    return float((maps[..., 1:, :] - maps[..., :-1, :]).abs().mean() + (maps[..., 1:] - maps[..., :-1]).abs().mean())


def load_images(folders: list[Path], per_folder: int, max_side: int) -> list[np.ndarray]:
    """The first ``per_folder`` images (by name) of each folder, longer side <= ``max_side`` (INTER_AREA)."""
    return [load_rgb(path, max_side) for folder in folders for path in list_images(folder, per_folder)]


def main() -> None:
    """Command line: print each model's mean map gradient."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="LABEL=WEIGHTS (a path, or reference) of the sgz network")
    parser.add_argument("--folders", nargs="+", type=Path, default=[PROXY / f for f in DEFAULT_FOLDERS])
    parser.add_argument("--per-folder", type=int, default=12)
    parser.add_argument("--max-side", type=int, default=512)
    parser.add_argument("--scale", type=int, default=12)
    args = parser.parse_args()
    torch.set_num_threads(1)
    images = load_images(args.folders, args.per_folder, args.max_side)
    for spec in args.models:
        label, _, weights = spec.partition("=")
        model = create_model("sgz", weights=weights or None).eval()
        value = np.mean([map_gradient(model, image, args.scale) for image in images])
        print(f"{label:14} map gradient {value:.4f} ({len(images)} images, s = {args.scale})")


if __name__ == "__main__":
    main()
