"""IAT models estimated at low resolution and applied at full resolution: fidelity and speed.

``psnr``: for each 1920×1080 frame (real low-light photos from ../shared/data/lowlight: one per
zerodcepp_real scene plus some of dicm, lime and lol_eval15_low; portrait frames turned, then resized),
the model run at full resolution is the reference; the split path estimates maps and globals on the
frame downscaled by s and applies them at full resolution (``apply_maps``). Prints PSNR (dB) per
scale factor, downscaling (bilinear without antialias as the engine's kernel does, or area) and map
upsampling (align_corners True: "corners", as the curve models; False: "centres"), plus two diagnostics:
only the maps from low resolution, only the globals.

``time``: torch eager medians at 256², 600×400 and 1080p for the full-resolution models and the split
path at each scale factor; onnxruntime on the estimator graph at full and estimation size (one thread).

    python benchmarks/iat_split.py psnr [--models iat_student,iat] [--scales 2,4,8,12] [--weights reference]
    python benchmarks/iat_split.py time [--scales 2,8] [--repeats 5] [--weights shipped] [--out FILE.json]

``--weights``: ``reference`` (the published checkpoints, default), ``shipped`` (llie_core/weights) or a path.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from llie_core.curves import estimation_size
from llie_core.models import apply_maps, create_model
from llie_core.registry import shared_dir

FRAME_SOURCES = {"zerodcepp_real": "*_0_.png", "dicm": "0[1-4].jpg", "lime": "[12].bmp", "lol_eval15_low": "[12]*.png"}
SIZES = {"256x256": (256, 256), "600x400": (600, 400), "1920x1080": (1920, 1080)}


def frames_1080p() -> list[tuple[str, np.ndarray]]:
    """(name, 1080×1920×3 RGB float32 in [0, 1]) for the benchmark frames."""
    root = shared_dir() / "data" / "lowlight"
    out = []
    for folder, pattern in FRAME_SOURCES.items():
        for path in sorted((root / folder).glob(pattern)):
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr.shape[0] > bgr.shape[1]:
                bgr = cv2.rotate(bgr, cv2.ROTATE_90_CLOCKWISE)
            shrink = bgr.shape[1] > 1920
            bgr = cv2.resize(bgr, (1920, 1080), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
            out.append((f"{folder}/{path.name}", bgr[:, :, ::-1] / np.float32(255)))
    return out


def _tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]


def _downscale(x: torch.Tensor, s: int, mode: str) -> torch.Tensor:
    size = estimation_size(x.shape[-2], x.shape[-1], s)
    if mode == "area":
        return F.interpolate(x, size=size, mode="area")
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(torch.mean((a.double() - b.double()) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1 / mse)


def _weights(text: str) -> str | None:
    return None if text == "shipped" else text


def psnr_table(models: list[str], scales: list[int], weights: str = "reference") -> list[dict]:
    """One row per model × frame × scale × variant."""
    frames = frames_1080p()
    rows = []
    for name in models:
        model = create_model(name, weights=_weights(weights), scale_factor=1)
        for frame_name, rgb in tqdm(frames, desc=name):
            x = _tensor(rgb)
            with torch.inference_mode():
                maps_full, params_full = model.estimate(x)
                reference = apply_maps(x, maps_full, params_full)
                for s in scales:
                    for mode in ("bilinear", "area"):
                        maps, params = model.estimate(_downscale(x, s, mode))
                        variants = {}
                        for up, corners in (("corners", True), ("centres", False)):
                            variants[("split", up)] = apply_maps(x, maps, params, corners)
                            if mode == "bilinear":
                                variants[("maps only", up)] = apply_maps(x, maps, params_full, corners)
                        if mode == "bilinear":
                            variants[("globals only", "-")] = apply_maps(x, maps_full, params)
                        for (variant, up), out in variants.items():
                            rows.append(
                                {
                                    "model": name,
                                    "frame": frame_name,
                                    "scale": s,
                                    "downscale": mode,
                                    "upsample": up,
                                    "variant": variant,
                                    "psnr": _psnr(out, reference),
                                    "gamma_err": float((params - params_full)[0, 0].abs()),
                                    "matrix_err": float((params - params_full)[0, 1:].abs().max()),
                                }
                            )
    return rows


def print_psnr(rows: list[dict]) -> None:
    """Mean and minimum PSNR over the frames per model, variant, downscaling, upsampling and scale."""
    fields = ("model", "variant", "downscale", "upsample")
    keys = sorted({tuple(r[f] for f in fields) for r in rows})
    scales = sorted({r["scale"] for r in rows})
    head = f"{'model':<12} {'variant':<13} {'down':<9} {'up':<8} "
    print(head + " ".join(f"{'s=' + str(s):>18}" for s in scales))
    for key in keys:
        cells = []
        for s in scales:
            v = [r["psnr"] for r in rows if tuple(r[f] for f in fields) == key and r["scale"] == s]
            cells.append(f"{statistics.mean(v):5.1f} (min {min(v):4.1f})")
        print(f"{key[0]:<12} {key[1]:<13} {key[2]:<9} {key[3]:<8} " + " ".join(f"{c:>18}" for c in cells))


def _median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def timings(models: list[str], scales: list[int], repeats: int, weights: str = "reference") -> list[dict]:
    """Median milliseconds per model, size and scale: eager full resolution, eager split, onnxruntime estimator."""
    import onnxruntime as ort

    from llie_core.export import export_onnx

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    rows = []
    for name in models:
        model = create_model(name, weights=_weights(weights), scale_factor=1)
        session = ort.InferenceSession(export_onnx(model, graph="estimator"), options, ["CPUExecutionProvider"])
        for label, (width, height) in SIZES.items():
            x = torch.rand(1, 3, height, width) * 0.3
            with torch.inference_mode():
                full = _median_ms(lambda: model(x), repeats)  # noqa: B023
            ort_full = _median_ms(lambda: session.run(None, {"image": x.numpy()}), repeats)  # noqa: B023
            for s in scales:
                low = _downscale(x, s, "bilinear")
                with torch.inference_mode():
                    estimate = _median_ms(lambda: model.estimate(low), repeats)  # noqa: B023
                    maps, params = model.estimate(low)
                    apply = _median_ms(lambda: apply_maps(x, maps, params), repeats)  # noqa: B023
                ort_ms = _median_ms(lambda: session.run(None, {"image": low.numpy()}), repeats)  # noqa: B023
                row = {
                    "model": name,
                    "size": label,
                    "full_eager_ms": round(full, 1),
                    "full_ort_estimator_ms": round(ort_full, 1),
                    "scale": s,
                    "estimate_eager_ms": round(estimate, 2),
                    "apply_eager_ms": round(apply, 2),
                    "estimate_ort_ms": round(ort_ms, 2),
                    "load_average_1min": round(os.getloadavg()[0], 2),  # others' work on a shared machine
                }
                print(json.dumps(row), flush=True)
                rows.append(row)
    return rows


def main() -> int:
    """Run ``psnr`` or ``time``; results also go to bench_out/iat_split_<command>.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["psnr", "time"])
    parser.add_argument("--models", default="iat_student,iat")
    parser.add_argument("--scales", default="2,4,8,12")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--weights", default="reference", help="reference, shipped or a .pth path")
    parser.add_argument("--out", type=Path, default=None, help="JSON rows (default bench_out/iat_split_CMD.json)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    models = args.models.split(",")
    if args.command == "psnr":
        rows = psnr_table(models, [int(s) for s in args.scales.split(",")], args.weights)
        print_psnr(rows)
    else:
        rows = timings(models, [int(s) for s in args.scales.split(",")], args.repeats, args.weights)
    out = args.out or Path("bench_out") / f"iat_split_{args.command}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
