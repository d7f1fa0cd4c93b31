"""A noise-gated pre-smoothing for the IAT student, chosen on training-side images only.

Issue 13's NIQE on lol_eval15_low at native size (600×400) was 5.28 against the target 4.3 (3.95 at <= 512): the
student carries detail as x·mul with smooth maps, so it amplifies the frame's sensor noise. The shipped pre-smoothing
blends x towards its 3×3 binomial blur b by β = ramp(g; 4, 8), g the noise gain d out/dx from the estimate: it looks
at the gain only, not at how noisy the frame is.

Sets (never lol_eval15_low, dicm, lime, sci_* or highway_dev's held-out 150):

- ``bayer16`` / ``bayer32``: 30 images of highway_dev's TRAINING part (``split_names``; a seeded choice), centre-
  cropped to 3:2 and area-resized to 600×400 (lol_eval15_low's size), darkened by ``llie_core.noise.darken`` on an
  RGGB mosaic (demosaiced: spatially correlated noise, as a camera's) with light ÷16 and ÷32, 4,000 e⁻ at full scale,
  read σ 1 e⁻ (the "moderate" regime), seeded per image and ratio: the "very dark, noisy, native size" proxy.
- ``zerodcepp_real`` and ``bdd100k_night`` at native size and at longer side <= 512: "do no harm".

First sweep (the brief's proxy, noise drawn per pixel and channel, no mosaic; ``noisy16`` / ``noisy32``): the shipped
student scored NIQE 4.02 / 4.2 there, not the 5+ of native lol_eval15_low, so that proxy was wrong; on it a second
stage blending further to the 5×5 or 7×7 binomial above g = 8 (8 → 12, 16, 24) raised NIQE (4.02 → 4.03-4.06 on
noisy16), as did the 5×5 in place of the 3×3 (4.24). With the mosaic (10 images, ÷16) the shipped student scores
6.53 (÷32: 5.80), like native lol. A probe on 8 of its images (÷16): shipped 6.42; a second 5×5 stage above g = 8
6.33; the 3×3 everywhere (β = 1) 5.68 and the 5×5, 7×7, 9×9 everywhere 6.31-6.76 (blur costs NIQE too); the 3×3 at
g = 2 → 4 5.32; the teacher 5.16. The gain alone sits low on these frames (median 3.2 at ÷16: β mostly 0), so the
lever is to start the 3×3 earlier where the frame is noisy. The candidates therefore keep the shipped ramp and add
one on the amplified noise g·σ (8-bit codes), σ the frame's noise estimated in the estimator graph from its own
input (Immerkær's operator on the luma of the downscaled frame, per tile of a 4×4 grid, then the tiles' minimum or
median: texture raises single tiles): β = max(ramp(g; 4, 8), ramp(g·σ; a, b)). Where σ is low nothing changes.

The rule (written before any figure of this sweep or of an evaluation set). A candidate qualifies when
(a) its mean NIQE on each do-no-harm set, at native size and at <= 512, is at most the shipped student's + 0.02;
(b) its mean PSNR to the teacher (IAT, LOL-v2 weights, s = 1) on zerodcepp_real and bdd100k_night (<= 512) and on
    bayer16 + bayer32 (native) is at least the shipped student's − 0.3 dB on each;
(c) ``llie bench --models iat_student,tiny_dce --resolutions 1920x1080 --threads 1`` gives a median <= 24.5 ms (the
    issue's 25 ms less a margin; tiny_dce and uptime quoted beside it).
Among qualifying candidates the lowest mean NIQE on bayer16 + bayer32 (60 images, native) wins, if it is at least
0.1 below the shipped student's; else the shipped pre-smoothing stays.

Result (``choose``; NIQE bayer16+bayer32 / zerodcepp_real native, bdd100k_night native, zerodcepp_real <= 512,
bdd100k_night <= 512; PSNR to the teacher bayer / zerodcepp_real / bdd100k_night, dB):

    shipped      6.412 / 5.011 4.884 4.397 4.210   24.74 / 29.35 / 25.85
    min_4_8      6.083 / 5.021 4.887 4.397 4.210   24.84 / 29.35 / 25.85   chosen
    min_6_12     6.330 / 5.012 4.885 4.397 4.210   24.77 / 29.35 / 25.85
    median_4_8   5.368 / 5.073 5.079 4.397 4.251   25.03 / 29.35 / 25.88   (a): bdd100k_night native +0.20
    median_6_12  5.914 / 5.021 4.948 4.397 4.214   24.89 / 29.35 / 25.85   (a): bdd100k_night native +0.06
    median_8_16  6.172 / 5.013 4.904 4.397 4.211   24.80 / 29.35 / 25.85

The tiles' median reads texture as noise on bdd100k_night's 1280×720 frames at s = 5 (and on zerodcepp_real's
1080p ones at s = 8), where the downscaled frame is dense with edges; the flattest tile does not. (c): see
llie_core/weights/iat_student.yaml's notes (the estimator graph gains a 3×3 conv, a pooling and a minimum at
estimation size; the applier is unchanged).

    python benchmarks/iat_presmoothing.py make [--out runs/proxy13]
    python benchmarks/iat_presmoothing.py sweep --part noisy|le512|native [--sets NAME ...] [--out runs/proxy13]
    python benchmarks/iat_presmoothing.py choose [--out runs/proxy13]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from llie_core import metrics
from llie_core.cli.eval import list_images, load_rgb
from llie_core.curves import estimation_size, frame_scale_factor
from llie_core.detect_eval import split_names
from llie_core.models import create_model
from llie_core.models.iat import IATFamily, apply_maps
from llie_core.models.iat_student import smoothing_weight
from llie_core.noise import NoiseRegime, darken, keyed_rng
from llie_core.registry import default_max_estimation_side, shared_dir

SEED = 0
PROXY_IMAGES = 30
PROXY_SIZE = (600, 400)  # W×H, lol_eval15_low's
PROXY_RATIOS = {"bayer16": 16.0, "bayer32": 32.0}
FULL_WELL, READ_SIGMA = 4000.0, 1.0
DO_NO_HARM = {"zerodcepp_real": "data/lowlight/zerodcepp_real", "bdd100k_night": "data/night/bdd100k_night"}
# name: (the noise statistic, the ramp on g·σ); "shipped" has none
CANDIDATES = {
    "shipped": ("median", None),
    "min_4_8": ("min", (4.0, 8.0)),
    "min_6_12": ("min", (6.0, 12.0)),
    "median_4_8": ("median", (4.0, 8.0)),
    "median_6_12": ("median", (6.0, 12.0)),
    "median_8_16": ("median", (8.0, 16.0)),
}
NIQE_MARGIN, PSNR_MARGIN_DB, MIN_GAIN, PROXY_MIN_NIQE = 0.02, 0.3, 0.1, 5.0


def make(out: Path) -> None:
    """Write the noisy proxies: PROXY_IMAGES training-part highway_dev scenes at 600×400, darkened per ratio."""
    folder = shared_dir() / "data/detect/highway_dev/images"
    train = split_names([p.name for p in list_images(folder)]).train
    chosen = sorted(np.random.default_rng(SEED).choice(train, PROXY_IMAGES, replace=False).tolist())
    for name, ratio in PROXY_RATIOS.items():
        regime = NoiseRegime(name, ratio, full_well=FULL_WELL, read_sigma=READ_SIGMA)
        (out / name).mkdir(parents=True, exist_ok=True)
        for image in chosen:
            rgb = load_rgb(folder / image)
            h, w = rgb.shape[:2]
            ch = min(h, round(w * PROXY_SIZE[1] / PROXY_SIZE[0]))
            cw = min(w, round(ch * PROXY_SIZE[0] / PROXY_SIZE[1]))
            top, left = (h - ch) // 2, (w - cw) // 2
            scene = cv2.resize(rgb[top : top + ch, left : left + cw], PROXY_SIZE, interpolation=cv2.INTER_AREA)
            dark = darken(np.ascontiguousarray(scene), regime, keyed_rng(SEED, image, name), bayer="RGGB")
            cv2.imwrite(str(out / name / f"{Path(image).stem}.png"), dark[:, :, ::-1])
    print(f"{len(chosen)} scenes × {list(PROXY_RATIOS)} → {out}")


def _to_uint8(y: torch.Tensor) -> np.ndarray:
    return (y[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)


def sweep(out: Path, part: str, only: list[str] | None = None) -> None:
    """Per image and candidate: NIQE (and PSNR to the teacher where the part has it), one JSON line each.

    ``only``: the sets to run (default all of the part), written to their own file so that parts can run apart.
    """
    torch.set_num_threads(1)
    student = create_model("iat_student", scale_factor=1).eval()
    max_side = default_max_estimation_side("iat_student")
    teacher = create_model("iat", weights="reference:lol_v2", scale_factor=1).eval() if part != "native" else None
    if part == "noisy":
        sets = [(name, out / name, 0) for name in PROXY_RATIOS]
    else:
        sets = [(name, shared_dir() / rel, 512 if part == "le512" else 0) for name, rel in DO_NO_HARM.items()]
    sets = [entry for entry in sets if not only or entry[0] in only]
    suffix = "".join(f"_{name}" for name in only or [])
    with open(out / f"sweep_{part}{suffix}.jsonl", "w") as log, torch.inference_mode():
        for name, folder, side in sets:
            for path in list_images(folder):
                rgb = load_rgb(path, side)
                x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255.0
                s = frame_scale_factor(*rgb.shape[:2], 1, max_side)
                low = F.interpolate(x, size=estimation_size(*rgb.shape[:2], s), mode="bilinear", align_corners=False)
                maps, params = IATFamily.estimate(student, low)
                row = {"set": name, "image": path.name, "s": s}
                reference = _to_uint8(teacher(x)) if teacher is not None else None
                for label, (statistic, noise) in CANDIDATES.items():
                    beta = smoothing_weight(low, maps, params, noise, statistic)
                    output = _to_uint8(apply_maps(x, torch.cat([maps, beta], dim=1), params))
                    row[label] = {"niqe": metrics.niqe(output)}
                    if reference is not None:
                        row[label]["psnr"] = metrics.psnr(output, reference)
                log.write(json.dumps(row) + "\n")
                log.flush()


def _means(rows: list[dict], sets: list[str], label: str, key: str) -> float:
    values = [r[label][key] for r in rows if r["set"] in sets and not math.isnan(r[label].get(key, math.nan))]
    return sum(values) / len(values) if values else math.nan


def choose(out: Path) -> None:
    """Table of the sweep's means per candidate and the candidate the rule picks on (a) and (b); (c) is llie bench's."""
    parts = {}
    for part in ("noisy", "le512", "native"):  # one row per image, whichever run of the part wrote it
        rows = [json.loads(line) for path in sorted(out.glob(f"sweep_{part}*.jsonl")) for line in open(path)]
        parts[part] = list({(r["set"], r["image"]): r for r in rows}.values())
    noisy = list(PROXY_RATIOS)
    columns = [("noisy", noisy, "niqe")] + [("noisy", [n], "niqe") for n in noisy]
    columns += [(p, [n], "niqe") for p in ("native", "le512") for n in DO_NO_HARM]
    columns += [("noisy", noisy, "psnr")] + [("le512", [n], "psnr") for n in DO_NO_HARM]
    table = {
        label: {f"{key} {part} {'+'.join(sets)}": _means(parts[part], sets, label, key) for part, sets, key in columns}
        for label in CANDIDATES
    }
    for label, row in table.items():
        print(label.ljust(10), "  ".join(f"{k}: {v:.3f}" for k, v in row.items()))
    base = table["shipped"]
    proxy_key = f"niqe noisy {'+'.join(noisy)}"
    if base[proxy_key] < PROXY_MIN_NIQE:
        print(
            f"the shipped student's noisy-proxy NIQE {base[proxy_key]:.3f} < {PROXY_MIN_NIQE}: proxy wrong, no choice"
        )
        return
    qualifying = []
    for label, row in table.items():
        harm = all(row[k] <= base[k] + NIQE_MARGIN for k in row if k.startswith("niqe") and "noisy" not in k)
        psnr = all(row[k] >= base[k] - PSNR_MARGIN_DB for k in row if k.startswith("psnr"))
        if label != "shipped" and harm and psnr:
            qualifying.append(label)
    best = min(qualifying, key=lambda lab: table[lab][proxy_key], default=None)
    if best is None or table[best][proxy_key] > base[proxy_key] - MIN_GAIN:
        best = "shipped"
    print(f"qualifying on (a), (b): {qualifying}; chosen (subject to (c)): {best}")
    (out / "choice.json").write_text(json.dumps({"table": table, "qualifying": qualifying, "choice": best}, indent=1))


def main() -> None:
    """Command line: make, sweep, choose."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["make", "sweep", "choose"])
    parser.add_argument("--out", type=Path, default=Path("runs/proxy13"))
    parser.add_argument("--part", choices=["noisy", "le512", "native"], default="noisy")
    parser.add_argument("--sets", nargs="+", default=None, help="of the part's sets (default all)")
    args = parser.parse_args()
    if args.command == "make":
        make(args.out)
    elif args.command == "sweep":
        sweep(args.out, args.part, args.sets)
    else:
        choose(args.out)


if __name__ == "__main__":
    main()
