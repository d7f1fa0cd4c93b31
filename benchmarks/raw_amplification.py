"""Calibrate and check the RAW amplification estimate (llie_core.amplification) on synthetic dark RAW frames.

Calibration (GREEN_TARGET): training images (road: highway_dev's training part, GREEN_TARGET's calibration; sice:
SICE part 1's RAW training selection, for comparison), each auto-exposed to METER_TARGET, sensed through its own
random camera (raw_eval.evaluation_camera) at a ratio of 50-300 with a random sensor as in training; the target is
the median of metered level × ratio. Check: the held-out road images
(highway_dev's evaluation part), auto-exposed, at ratios 100 and 300 with the evaluation sensor
(llie_core.raw_eval.RAW_REGIMES): the fraction of frames whose estimate is within 25% of the true ratio.
Never calibrated on the images it is checked on.

    python benchmarks/raw_amplification.py [--images 400] [--calibrate-on road|sice]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from llie_core.amplification import GREEN_TARGET, auto_expose, estimate_amplification, metered_level
from llie_core.detect_eval import load_dataset
from llie_core.noise import NoiseRegime, keyed_rng, to_raw
from llie_core.raw_eval import RAW_REGIMES, evaluation_camera, held_out_images, read_rgb
from llie_core.registry import shared_dir


def calibrate(files: list[Path], seed: int = 0) -> np.ndarray:
    """metered level × true ratio of each training image's synthetic dark frame."""
    values = []
    for path in tqdm(files, desc="calibrate", unit="image"):
        rng = keyed_rng(seed, path.name, "calibrate")
        ratio = float(np.exp(rng.uniform(np.log(50), np.log(300))))
        bits = int(rng.choice([12, 14]))
        regime = NoiseRegime(
            "calibrate",
            ratio,
            full_well=float(np.exp(rng.uniform(np.log(4000), np.log(100000)))),
            read_sigma=float(rng.uniform(1, 4)),
            bit_depth=bits,
        )
        reference = auto_expose(read_rgb(path))
        raw = to_raw(reference, regime, rng, evaluation_camera(rng))
        values.append(metered_level(raw) * ratio)
    return np.asarray(values)


def check(files: list[Path], seed: int = 0) -> dict[str, np.ndarray]:
    """estimate / true ratio on the held-out images, per evaluation regime."""
    out = {}
    for regime in RAW_REGIMES.values():
        errors = []
        for path in tqdm(files, desc=f"check {regime.name}", unit="image"):
            rng = keyed_rng(seed, path.name, regime.name)
            raw = to_raw(auto_expose(read_rgb(path)), regime, rng, evaluation_camera(rng))
            errors.append(estimate_amplification(raw) / regime.ratio)
        out[regime.name] = np.asarray(errors)
    return out


def main() -> None:
    """Print the calibrated GREEN_TARGET and the held-out accuracy of the current one."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=400, help="training images used for calibration")
    parser.add_argument(
        "--calibrate-on",
        choices=("road", "sice"),
        default="road",
        help="road: highway_dev's training part (the robot's scenes; GREEN_TARGET's calibration); sice: the RAW "
        "training selection of SICE part 1 (the network's training images, to see how far their level is)",
    )
    args = parser.parse_args()
    if args.calibrate_on == "road":
        train = [
            item.path for item in load_dataset(shared_dir() / "data" / "detect" / "highway_dev", part="train").images
        ]
    else:
        from training.config import load_config
        from training.llpacknet import training_images

        train = training_images(load_config("training/configs/llpacknet.yaml"))
    step = max(1, len(train) // args.images)
    values = calibrate(train[::step][: args.images])
    print(
        f"calibration on {len(values)} {args.calibrate_on} training images: median {np.median(values):.4f} "
        f"(5-95%: {np.percentile(values, 5):.4f}-{np.percentile(values, 95):.4f}); GREEN_TARGET = {GREEN_TARGET}"
    )
    held_out = held_out_images(shared_dir() / "data" / "detect" / "highway_dev")
    for name, ratios in check(held_out).items():
        within = np.mean(np.abs(ratios - 1) <= 0.25)
        print(
            f"{name}: {len(ratios)} held-out frames, estimate within 25% of the true ratio on {within:.1%}; "
            f"median estimate/true {np.median(ratios):.3f}, 5-95% {np.percentile(ratios, 5):.3f}-"
            f"{np.percentile(ratios, 95):.3f}"
        )


if __name__ == "__main__":
    main()
