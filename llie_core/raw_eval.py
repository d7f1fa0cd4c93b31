"""Synthetic RAW benchmark: held-out clean images made into dark RAW frames, restored, compared with the clean image.

Rows: ``naive`` (demosaic, the true ratio as gain, sRGB gamma: no white balance), ``naive+ENHANCER`` (an RGB
enhancer, e.g. tiny_dce, on that), ``camera`` (the same with the camera's own white balance, colour matrix and
tone curve: what the camera renders of the noisy frame, knowing what the RAW model must infer), the RAW model with
its metered amplification, and with the true ratio (the official LLPackNet protocol). PSNR/SSIM against the
reference; the amplification estimate against the true ratio.

Frames: each image of a held-out set (default: highway_dev's evaluation part, never trained on) is auto-exposed
(``amplification.auto_expose``: the reference frame, what an auto-exposing camera with enough light gives),
unprocessed through its own seeded random camera (``evaluation_camera``: Brooks et al.'s white balance and
colour matrix at their mean exposure gain, since one robot camera renders with one gain) and sensed as a RAW
mosaic at each regime of ``RAW_REGIMES`` (light ÷100 and ÷300; shot and read noise of a 14-bit sensor with
16,000 e⁻ at full scale and 3 e⁻ read noise, SID-like levels: a mid-grey site collects 29 and 10 electrons).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from llie_core.amplification import auto_expose
from llie_core.detect_eval import load_dataset, read_bgr
from llie_core.engine import Enhancer, RawEnhancer
from llie_core.metrics import psnr, ssim
from llie_core.noise import NoiseRegime, Processing, RawMosaic, keyed_rng, random_processing, raw_to_rgb, to_raw

RAW_REGIMES = {
    "raw100": NoiseRegime("raw100", 100.0, full_well=16000.0, read_sigma=3.0, bit_depth=14),
    "raw300": NoiseRegime("raw300", 300.0, full_well=16000.0, read_sigma=3.0, bit_depth=14),
}


def held_out_images(root: str | Path, max_images: int | None = None) -> list[Path]:
    """The evaluation part of a labelled detection folder (``detect_eval.split_names``), or every image of a folder."""
    return [item.path for item in load_dataset(root, part="eval", max_images=max_images).images]


def read_rgb(path: Path) -> np.ndarray:
    """An image file as H×W×3 RGB uint8."""
    return np.ascontiguousarray(read_bgr(path)[:, :, ::-1])


# Brooks et al.'s exposure gain 1/N(0.8, 0.1) is a spread of rendering gains across cameras; one camera has one.
EXPOSURE_GAIN = 1.25


def evaluation_camera(rng: np.random.Generator) -> Processing:
    """A random camera (``noise.random_processing``: white balance, colour matrix, tone curve) at EXPOSURE_GAIN."""
    camera = random_processing(rng)
    exposure = camera.gains[1]
    return replace(camera, gains=tuple(g / exposure * EXPOSURE_GAIN for g in camera.gains))


@dataclass(frozen=True)
class RawSample:
    """One evaluation frame: the auto-exposed reference (H×W×3 RGB uint8) and its dark RAW frame."""

    name: str
    reference: np.ndarray
    raw: RawMosaic


def make_sample(path: Path, regime: NoiseRegime, seed: int = 0, pattern: str = "RGGB") -> RawSample:
    """The reference and dark RAW frame of one image at one regime (seeded by image name and regime)."""
    rng = keyed_rng(seed, path.name, regime.name)
    reference = auto_expose(read_rgb(path))
    return RawSample(path.name, reference, to_raw(reference, regime, rng, evaluation_camera(rng), pattern))


def naive(raw: RawMosaic, camera: bool = False) -> np.ndarray:
    """Demosaic, the true ratio as digital gain, sRGB gamma (RGB uint8); ``camera``: the camera's own white balance,
    colour matrix and tone curve as well (what the camera renders of the noisy frame)."""
    return raw_to_rgb(raw if camera else replace(raw, processing=None), gain=raw.ratio)


# Rows of the table: label → how it is computed (from the sample, the RAW model and the RGB enhancer).
ROWS = ("naive", "naive+{enhancer}", "camera", "{model}", "{model} (true ratio)")


def evaluate(
    files: list[Path],
    regimes: list[NoiseRegime],
    model: RawEnhancer,
    enhancer: Enhancer,
    seed: int = 0,
    pattern: str = "RGGB",
    examples: int = 2,
    progress: bool = True,
) -> tuple[dict[str, Any], dict[str, list[np.ndarray]]]:
    """PSNR/SSIM against the reference of every row, and the amplification estimate against the true ratio.

    Returns (results for report.json, example rows {regime: [RGB strips]}).
    """
    labels = [row.format(model=model.name, enhancer=enhancer.name) for row in ROWS]
    results: dict[str, Any] = {"images": len(files), "seed": seed, "pattern": pattern, "regimes": {}}
    strips: dict[str, list[np.ndarray]] = {}
    example_ids = set(np.linspace(0, len(files) - 1, min(examples, len(files))).round().astype(int).tolist())
    for regime in regimes:
        scores: dict[str, dict[str, list[float]]] = {label: {"psnr": [], "ssim": []} for label in labels}
        ratios, strips[regime.name] = [], []
        for index, path in enumerate(tqdm(files, desc=f"eval raw {regime.name}", unit="image", disable=not progress)):
            sample = make_sample(path, regime, seed, pattern)
            amplification = model.estimate(sample.raw)
            ratios.append(amplification / regime.ratio)
            plain = naive(sample.raw)
            outputs = [
                plain,
                enhancer.enhance(plain, rgb=True),
                naive(sample.raw, camera=True),
                model.apply(sample.raw, amplification, rgb=True),
                model.apply(sample.raw, regime.ratio, rgb=True),
            ]
            for label, out in zip(labels, outputs, strict=True):
                scores[label]["psnr"].append(psnr(out, sample.reference))
                scores[label]["ssim"].append(ssim(out, sample.reference))
            if index in example_ids:
                strips[regime.name].append(np.concatenate([sample.reference, *outputs], axis=1))
        ratios = np.asarray(ratios)
        results["regimes"][regime.name] = {
            "regime": regime.describe(),
            "rows": {
                label: {k: float(np.mean(v)) for k, v in metric.items()} | {"psnr_min": float(np.min(metric["psnr"]))}
                for label, metric in scores.items()
            },
            "amplification": {
                "within_25pct": float(np.mean(np.abs(ratios - 1.0) <= 0.25)),
                "median_ratio": float(np.median(ratios)),
                "p5_ratio": float(np.percentile(ratios, 5)),
                "p95_ratio": float(np.percentile(ratios, 95)),
            },
        }
    results["columns"] = ["reference", *labels]
    return results, strips


def format_table(results: dict[str, Any]) -> str:
    """PSNR / SSIM per regime and row, and the amplification estimate's accuracy."""
    lines = []
    for name, entry in results["regimes"].items():
        lines.append(f"{name}: {entry['regime']}")
        for label, row in entry["rows"].items():
            lines.append(
                f"  {label:28s} PSNR {row['psnr']:6.2f} dB  SSIM {row['ssim']:.4f}  (min PSNR {row['psnr_min']:.2f})"
            )
        amp = entry["amplification"]
        lines.append(
            f"  amplification estimate within 25% of the true ratio on {amp['within_25pct']:.1%} of frames "
            f"(estimate/true median {amp['median_ratio']:.3f}, 5-95% {amp['p5_ratio']:.3f}-{amp['p95_ratio']:.3f})"
        )
    return "\n".join(lines)
