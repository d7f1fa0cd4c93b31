"""``llie eval``: no-reference quality and model-vs-model agreement over folders of low-light images.

``llie eval quality MODELS...`` (``quality`` may be left out: ``llie eval MODELS...``) is this tool;
``llie eval detect`` measures what enhancement does to a detector (llie_core.cli.eval_detect);
``llie eval raw`` a RAW model on synthetic dark RAW frames (llie_core.cli.eval_raw).

Each model is given as ``LABEL=MODEL[:WEIGHTS][@SCALE]``: WEIGHTS is a path, ``reference`` (the
published checkpoint in ../shared) or omitted (the shipped weights); SCALE is the estimation scale
factor, or ``maxN``: the estimator sees at most N pixels on the longer side, as the engine's
``max_estimation_side`` (default: the model's; for shipped weights their card's). Per model and
folder it reports NIQE, mean brightness and its distance to E, entropy, colourfulness and LOE;
``--compare A:B`` adds PSNR/SSIM of A's output against B's on the same inputs. Results go to stdout
and, with ``--out``, to CSV/YAML plus a side-by-side image grid (input | each model).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from llie_core import metrics
from llie_core.metrics import brightness, colourfulness, entropy, lightness_order_error, psnr, ssim
from llie_core.stages import ModelEntry, parse_model

DEFAULT_SETS = ("dicm", "lime", "lol_eval15_low")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}
QUALITY_METRICS = ("niqe", "brightness", "dist_to_e", "entropy", "colourfulness", "loe")


def list_images(folder: Path) -> list[Path]:
    """Sorted image files in a folder; error naming the folder if there are none."""
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no images in {folder}")
    return files


def load_rgb(path: Path, max_side: int = 0) -> np.ndarray:
    """H×W×3 uint8 RGB, area-downscaled so the longer side is at most ``max_side`` (0 = as is)."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot read image {path}")
    h, w = bgr.shape[:2]
    if max_side and max(h, w) > max_side:
        r = max_side / max(h, w)
        bgr = cv2.resize(bgr, (max(1, round(w * r)), max(1, round(h * r))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def _build_runner(entry: ModelEntry):
    """(RGB uint8 → RGB uint8 with the torch model, the scale it runs at: an int or "maxN")."""
    import torch

    from llie_core.curves import frame_scale_factor
    from llie_core.models import create_model
    from llie_core.registry import default_max_estimation_side

    max_side = entry.max_estimation_side
    if max_side is None and entry.scale_factor is None:
        max_side = default_max_estimation_side(entry.name, entry.weights)
    scale = entry.scale_factor or (1 if max_side else None)  # as create_enhancer: maxN alone starts at s = 1
    model = create_model(entry.name, weights=entry.weights, **({} if scale is None else {"scale_factor": scale}))
    base = model.scale_factor

    def run(rgb: np.ndarray) -> np.ndarray:
        # The engine's rule (NetworkEnhancer.scale_factor_for): the scale factor grows with the image.
        model.scale_factor = frame_scale_factor(*rgb.shape[:2], base, max_side)
        x = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).float() / 255.0
        with torch.inference_mode():
            y = model(x)[0].clamp(0, 1)
        return (y.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)

    return run, base if max_side is None else f"max{max_side}"


def quality_row(original: np.ndarray, output: np.ndarray, target: float, with_niqe: bool = True) -> dict[str, float]:
    """The no-reference figures of one output image (LOE against its input)."""
    b = brightness(output)
    row = {
        "brightness": b,
        "dist_to_e": abs(b - target),
        "entropy": entropy(output),
        "colourfulness": colourfulness(output),
        "loe": lightness_order_error(original, output),
    }
    row["niqe"] = float("nan")
    if with_niqe:
        # NIQE needs scipy: llie_core.metrics imports it only when it is asked for.
        try:
            row["niqe"] = metrics.niqe(output)
        except ValueError:  # undefined on a flat output (a collapsed model's black frame): NaN, left out of means
            pass
    return row


def evaluate(
    models: list[ModelEntry],
    folders: list[Path],
    compare: list[tuple[str, str]] = (),
    max_side: int = 512,
    target: float = 0.6,
    with_niqe: bool = True,
    include_input: bool = True,
    grid_path: Path | None = None,
    grid_per_set: int = 2,
    progress: bool = True,
) -> dict:
    """Evaluate models over folders; returns {"quality": rows, "agreement": rows, "per_image": rows, ...}.

    Summary rows hold per-folder means and an "all" row (mean over every image of every folder).
    """
    labels = [m.label for m in models]
    if len(set(labels)) != len(labels):
        raise ValueError(f"model labels must be unique, got {labels}")
    for a, b in compare:
        for lab in (a, b):
            if lab not in labels:
                raise ValueError(f"--compare names {lab!r}, which is not a model label ({', '.join(labels)})")
    runners = {}
    scales = {}
    for m in models:
        runners[m.label], scales[m.label] = _build_runner(m)
    per_image: list[dict] = []
    agreement: list[dict] = []
    grid_rows: list[list[tuple[str, np.ndarray]]] = []
    t0 = time.perf_counter()
    for folder in folders:
        files = list_images(folder)
        for i, path in enumerate(files):
            rgb = load_rgb(path, max_side)
            outputs = {lab: runners[lab](rgb) for lab in labels}
            if include_input:
                per_image.append(
                    {
                        "set": folder.name,
                        "image": path.name,
                        "model": "input",
                        **quality_row(rgb, rgb, target, with_niqe),
                    }
                )
            for lab in labels:
                row = quality_row(rgb, outputs[lab], target, with_niqe)
                per_image.append({"set": folder.name, "image": path.name, "model": lab, **row})
            for a, b in compare:
                agreement.append(
                    {
                        "set": folder.name,
                        "image": path.name,
                        "pair": f"{a} vs {b}",
                        "psnr": psnr(outputs[a], outputs[b]),
                        "ssim": ssim(outputs[a], outputs[b]),
                    }
                )
            if grid_path is not None and i < grid_per_set:
                grid_rows.append([(f"input {folder.name}/{path.name}", rgb)] + [(lab, outputs[lab]) for lab in labels])
            if progress:
                print(
                    f"\r{folder.name}: {i + 1}/{len(files)} ({time.perf_counter() - t0:.0f}s)", end="", file=sys.stderr
                )
        if progress:
            print(file=sys.stderr)
    quality = _summarise(per_image, "model", QUALITY_METRICS)
    agree = _summarise(agreement, "pair", ("psnr", "ssim"))
    if grid_path is not None and grid_rows:
        save_grid(grid_rows, grid_path)
    return {
        "quality": quality,
        "agreement": agree,
        "per_image": per_image,
        "per_image_agreement": agreement,
        "models": {
            m.label: {"model": m.name, "weights": m.weights or "shipped", "scale_factor": scales[m.label]}
            for m in models
        },
        "folders": [str(f) for f in folders],
        "max_side": max_side,
        "target_e": target,
        "wall_time_s": round(time.perf_counter() - t0, 1),
    }


def _summarise(rows: list[dict], key: str, metrics: tuple[str, ...]) -> list[dict]:
    out = []
    groups = list(dict.fromkeys(r[key] for r in rows))
    sets = list(dict.fromkeys(r["set"] for r in rows))
    for g in groups:
        for s in [*sets, "all"]:
            sel = [r for r in rows if r[key] == g and (s == "all" or r["set"] == s)]
            if not sel:
                continue
            summary = {key: g, "set": s, "images": len(sel)}
            for m in metrics:
                vals = np.array([r[m] for r in sel], dtype=np.float64)
                summary[m] = float(np.nanmean(vals)) if (~np.isnan(vals)).any() else float("nan")
            out.append(summary)
    return out


def save_grid(rows: list[list[tuple[str, np.ndarray]]], path: Path, height: int = 180) -> None:
    """Side-by-side PNG: one row per image, columns input | each model, labelled."""
    tiles = []
    for row in rows:
        cells = []
        for label, img in row:
            h, w = img.shape[:2]
            cell = cv2.resize(img, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)
            cell = cv2.copyMakeBorder(cell, 22, 2, 2, 2, cv2.BORDER_CONSTANT, value=(255, 255, 255))
            cv2.putText(cell, label[:40], (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
            cells.append(cell)
        tiles.append(cells)
    width = max(sum(c.shape[1] for c in cells) for cells in tiles)
    lines = []
    for cells in tiles:
        line = np.concatenate(cells, axis=1)
        line = cv2.copyMakeBorder(line, 0, 0, 0, width - line.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255))
        lines.append(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.concatenate(lines, axis=0)[:, :, ::-1])


def format_table(rows: list[dict], columns: list[str]) -> str:
    """Fixed-width text table of summary rows."""
    cells = [[c for c in columns]]
    for r in rows:
        cells.append([f"{r[c]:.4f}" if isinstance(r[c], float) else str(r[c]) for c in columns])
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(v.rjust(w) if j else v.ljust(w) for j, (v, w) in enumerate(zip(row, widths, strict=True)))
        for row in cells
    )


def _write_csv(rows: list[dict], path: Path) -> None:
    if not rows:
        return
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``llie eval``'s sub-commands: ``quality`` (meant when none is named), ``detect`` and ``raw``."""
    from llie_core.cli import eval_detect, eval_raw

    commands = parser.add_subparsers(dest="eval_command", required=True, metavar="{quality,detect,raw}")
    eval_raw.add_arguments(
        commands.add_parser(
            "raw",
            help=eval_raw.SUMMARY,
            description=eval_raw.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    eval_detect.add_arguments(
        commands.add_parser(
            "detect",
            help=eval_detect.SUMMARY,
            description=eval_detect.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    parser = commands.add_parser(
        "quality",
        help="quality metrics and model agreement over folders of low-light images (the default)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "models",
        nargs="+",
        metavar="LABEL=MODEL[:WEIGHTS][@SCALE]",
        help="models to evaluate, e.g. ours=zero_dce_pp official=zero_dce_pp:reference tiny=tiny_dce@12",
    )
    parser.add_argument(
        "--data",
        nargs="+",
        type=Path,
        default=None,
        help=f"image folders (default: {', '.join(DEFAULT_SETS)} under ../shared/data/lowlight)",
    )
    parser.add_argument("--compare", action="append", default=[], metavar="A:B", help="PSNR/SSIM of A's output vs B's")
    parser.add_argument("--max-side", type=int, default=512, help="downscale so the longer side is <= this (0 = off)")
    parser.add_argument("--target-e", type=float, default=0.6, help="exposure target E for the brightness distance")
    parser.add_argument("--no-niqe", action="store_true", help="skip NIQE (the slowest metric)")
    parser.add_argument("--out", type=Path, default=None, help="folder for CSV/YAML results and the image grid")
    parser.add_argument("--grid-per-set", type=int, default=2, help="images per folder in the grid")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the evaluation, print the tables, save results; exit status 2 on bad arguments."""
    try:
        models = [parse_model(m) for m in args.models]
        pairs = []
        for c in args.compare:
            a, sep, b = c.partition(":")
            if not sep or not a or not b:
                raise ValueError(f"--compare expects A:B, got {c!r}")
            pairs.append((a, b))
        if args.data:
            folders = list(args.data)
        else:
            from llie_core.registry import shared_dir

            folders = [shared_dir() / "data" / "lowlight" / s for s in DEFAULT_SETS]
        for f in folders:
            list_images(f)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    grid = args.out / "grid.png" if args.out else None
    result = evaluate(
        models,
        folders,
        pairs,
        args.max_side,
        args.target_e,
        not args.no_niqe,
        grid_path=grid,
        grid_per_set=args.grid_per_set,
    )
    print(format_table(result["quality"], ["model", "set", "images", *QUALITY_METRICS]))
    if result["agreement"]:
        print()
        print(format_table(result["agreement"], ["pair", "set", "images", "psnr", "ssim"]))
    if args.out:
        import yaml

        args.out.mkdir(parents=True, exist_ok=True)
        _write_csv(result["quality"], args.out / "quality.csv")
        _write_csv(result["agreement"], args.out / "agreement.csv")
        _write_csv(result["per_image"], args.out / "per_image.csv")
        _write_csv(result["per_image_agreement"], args.out / "per_image_agreement.csv")
        summary = {
            k: result[k] for k in ("models", "folders", "max_side", "target_e", "wall_time_s", "quality", "agreement")
        }
        with open(args.out / "summary.yaml", "w", encoding="utf-8") as fh:
            yaml.safe_dump(summary, fh, sort_keys=False)
        print(f"\nsaved to {args.out}")
    return 0
