"""Install trained weights into llie_core/weights, evaluate them, and write their model cards.

``python -m training.publish install NAME``   copy runs/NAME/model.pth → llie_core/weights/NAME.pth (+ ONNX)
``python -m training.publish eval GROUP``     the standard ``llie eval`` suite → runs/eval/GROUP
``python -m training.publish cards``          llie_core/weights/NAME.yaml from the runs and the evaluations

The RAW model (llpacknet) ships its estimator graph in int8 (training/quantize.py), its card quotes
``llie eval raw`` on the held-out road images for the shipped int8 graph and the fp32 checkpoint
(``eval raw``) and, when present, ``llie bench`` figures from runs/eval/raw_bench/bench.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import yaml

from training.config import REPO_ROOT, load_config
from training.engine import sha256_of

WEIGHTS = REPO_ROOT / "llie_core" / "weights"
RAW_MODELS = ("llpacknet",)
RUNS = REPO_ROOT / "runs"
EVAL_DIR = RUNS / "eval"
CONFIGS = REPO_ROOT / "training" / "configs"
SHARED_REF = "../shared/weights/reference"
MAKE_COMMAND = "make -C training weights"

# Evaluation suites: (label, model, weights, scale factor); weights None = the shipped file.
SUITES: dict[str, list[tuple[str, str, str | None, int]]] = {
    "distill": [
        ("zero_dce_pp", "zero_dce_pp", None, 12),
        ("zero_dce_pp_official", "zero_dce_pp", "reference", 12),
        ("tiny_dce", "tiny_dce", None, 12),
        ("tiny_dce_published", "tiny_dce", "reference", 12),
        ("tiny_dce_teacher_published", "zero_dce_pp", f"{SHARED_REF}/tiny_dce_teacher_zero_dce_pp.pth", 12),
        ("tiny_dce_s1", "tiny_dce", None, 1),
        ("zero_dce_pp_s1", "zero_dce_pp", None, 1),
        ("tiny_dce_published_s1", "tiny_dce", "reference", 1),
        ("tiny_dce_teacher_published_s1", "zero_dce_pp", f"{SHARED_REF}/tiny_dce_teacher_zero_dce_pp.pth", 1),
    ],
    "zero_dce": [
        ("zero_dce", "zero_dce", None, 1),
        ("zero_dce_official", "zero_dce", "reference", 1),
    ],
}
COMPARE: dict[str, list[tuple[str, str]]] = {
    "distill": [
        ("tiny_dce", "zero_dce_pp"),
        ("tiny_dce_published", "tiny_dce_teacher_published"),
        ("tiny_dce_s1", "zero_dce_pp_s1"),
        ("tiny_dce_published_s1", "tiny_dce_teacher_published_s1"),
        ("zero_dce_pp", "zero_dce_pp_official"),
    ],
    "zero_dce": [("zero_dce", "zero_dce_official")],
}


def install(name: str, run_dir: Path | None = None, onnx: bool = True) -> Path:
    """Copy a run's model.pth into llie_core/weights/NAME.pth and export NAME.onnx (estimator graph)."""
    run_dir = run_dir or RUNS / name
    src = run_dir / "model.pth"
    if not src.is_file():
        raise FileNotFoundError(
            f"{src} does not exist: train it first (python -m training training/configs/{name}.yaml)"
        )
    WEIGHTS.mkdir(parents=True, exist_ok=True)
    dst = WEIGHTS / f"{name}.pth"
    shutil.copyfile(src, dst)
    if onnx and name in RAW_MODELS:
        export_raw_int8(name)
    elif onnx:
        export_onnx_file(name)
    return dst


def export_raw_int8(name: str) -> Path:
    """Export the shipped NAME.pth's estimator graph and quantise it to int8 → NAME.onnx (the engine's default)."""
    from llie_core.export import export_onnx
    from llie_core.models import create_model
    from training.quantize import calibration_inputs, quantize_estimator

    fp32 = export_onnx(create_model(name, weights=WEIGHTS / f"{name}.pth"), graph="estimator")
    inputs = calibration_inputs(load_config(CONFIGS / f"{name}.yaml"))
    return quantize_estimator(fp32, inputs, WEIGHTS / f"{name}.onnx")


def export_onnx_file(name: str) -> Path | None:
    """Export the shipped NAME.pth to NAME.onnx (estimator graph, what the runtime engine runs)."""
    try:
        from llie_core.export import export_onnx
    except ImportError as exc:
        print(f"ONNX export skipped for {name}: {exc}", file=sys.stderr)
        return None
    from llie_core.models import create_model

    path = WEIGHTS / f"{name}.onnx"
    export_onnx(create_model(name, weights=WEIGHTS / f"{name}.pth"), path, graph="estimator")
    return path


def run_eval(group: str, out: Path | None = None, threads: int = 0) -> Path:
    """Run one evaluation suite over dicm + lime + lol_eval15_low (longer side <= 512); returns its folder."""
    from llie_core.cli import main as llie_main

    out = out or EVAL_DIR / group
    models = []
    for label, model, weights, scale in SUITES[group]:
        # The shipped file by explicit path, so the suite never silently falls back to another one.
        spec = f"{model}:{WEIGHTS / (model + '.pth') if weights is None else weights}"
        models.append(f"{label}={spec}@{scale}")
    argv = ["eval", *models, "--out", str(out), "--max-side", "512"]
    for a, b in COMPARE[group]:
        argv += ["--compare", f"{a}:{b}"]
    if threads:
        argv += ["--threads", str(threads)]
    status = llie_main(argv)
    if status:
        raise SystemExit(status)
    return out


def _rows(summary: dict, table: str, key: str, label: str) -> dict:
    return {r["set"]: {k: v for k, v in r.items() if k not in (key, "set")} for r in summary[table] if r[key] == label}


def _load_eval(group: str) -> dict | None:
    path = EVAL_DIR / group / "summary.yaml"
    if not path.is_file():
        return None
    return yaml.safe_load(path.read_text())


def _round(obj):
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    return obj


def _figures(name: str, evals: dict[str, dict]) -> tuple[dict, list[dict]]:
    """(evaluation figures, target checks) quoted in NAME's card."""
    q = lambda group, label: _rows(evals[group], "quality", "model", label)  # noqa: E731
    a = lambda group, pair: _rows(evals[group], "agreement", "pair", pair)  # noqa: E731
    figures: dict = {}
    targets: list[dict] = []
    if name == "zero_dce_pp" and "distill" in evals:
        ours, official = q("distill", "zero_dce_pp"), q("distill", "zero_dce_pp_official")
        figures = {
            "ours_s12": ours,
            "official_s12": official,
            "ours_vs_official_s12": a("distill", "zero_dce_pp vs zero_dce_pp_official"),
        }
        db = abs(ours["all"]["brightness"] - official["all"]["brightness"])
        targets = [
            {
                "target": "mean brightness within 0.05 of the official checkpoint's",
                "ours": ours["all"]["brightness"],
                "official": official["all"]["brightness"],
                "difference": db,
                "met": bool(db <= 0.05),
            },
            {
                "target": "LOE no worse than the official's",
                "ours": ours["all"]["loe"],
                "official": official["all"]["loe"],
                "met": bool(ours["all"]["loe"] <= official["all"]["loe"]),
            },
            {
                "target": "mean NIQE no more than 0.1 above the official Zero-DCE++'s",
                "ours": ours["all"]["niqe"],
                "official": official["all"]["niqe"],
                "met": bool(ours["all"]["niqe"] <= official["all"]["niqe"] + 0.1),
            },
        ]
    elif name == "tiny_dce" and "distill" in evals:
        ours, published = q("distill", "tiny_dce"), q("distill", "tiny_dce_published")
        s12, s1 = a("distill", "tiny_dce vs zero_dce_pp"), a("distill", "tiny_dce_s1 vs zero_dce_pp_s1")
        p12 = a("distill", "tiny_dce_published vs tiny_dce_teacher_published")
        p1 = a("distill", "tiny_dce_published_s1 vs tiny_dce_teacher_published_s1")
        figures = {
            "student_vs_teacher_psnr_ssim": {
                "ours_s12 (tiny_dce vs our zero_dce_pp)": s12,
                "ours_s1": s1,
                "published_s12 (tiny_dce_student vs tiny_dce_teacher_zero_dce_pp)": p12,
                "published_s1": p1,
            },
            "ours_s12": ours,
            "published_student_s12": published,
        }
        targets = [
            {
                "target": "mean PSNR student vs teacher >= 25 dB at s = 12 (dicm + lime + lol_eval15_low)",
                "ours": s12["all"]["psnr"],
                "published": p12["all"]["psnr"],
                "published_s1": p1["all"]["psnr"],
                "met": bool(s12["all"]["psnr"] >= 25.0),
            },
            {
                "target": "mean NIQE no more than 0.1 above the published TinyDCE student's",
                "ours": ours["all"]["niqe"],
                "published": published["all"]["niqe"],
                "met": bool(ours["all"]["niqe"] <= published["all"]["niqe"] + 0.1),
            },
            {"target": "161 parameters", "ours": 161, "met": True},
        ]
    elif name == "zero_dce" and "zero_dce" in evals:
        ours, official = q("zero_dce", "zero_dce"), q("zero_dce", "zero_dce_official")
        figures = {
            "ours_s1": ours,
            "official_s1": official,
            "ours_vs_official": a("zero_dce", "zero_dce vs zero_dce_official"),
        }
    return _round(figures), _round(targets)


NOTES = {
    "zero_dce_pp": [
        "Trained from scratch with the four zero-reference losses of the official code (no reference images).",
        "Shortened for a 2-core CPU: 128x128 views instead of 512x512, exposure patch 4 and spatial pool 1 "
        "(content-equivalent to 16 and 4 at 512); TV weight 400, 4x the content-equivalent 100, which let this "
        "short high-lr run trade curve smoothness for exposure (LOE 1.5x the official's after one epoch).",
        "The shipped run was interrupted after epoch 4 (subnormal floats had slowed it ~3x) and continued with "
        "--resume after the trainer began flushing denormals; a fresh run flushes them throughout.",
        "Teacher of tiny_dce.",
    ],
    "tiny_dce": [
        "Distilled from llie's own zero_dce_pp (llie_core/weights/zero_dce_pp.pth) at the deployment scale s = 12.",
        "No VGG perceptual loss: it needs ImageNet weights, which cannot be downloaded here. The KD term is "
        "MSE + 0.05(1 - SSIM) plus a curve-response term; every loss used needs no download.",
        "Task weight 0.01 instead of the authors' 0.1: at these loss scales 0.1 outweighed the KD term.",
    ],
    "zero_dce": [
        "Trained from scratch with the four zero-reference losses of the official code (no reference images).",
        "Shortest run of the three (full-resolution 3x3 convs are the slowest on a CPU): 128x128 views, exposure "
        "patch 8 and spatial pool 2 (content-equivalent to the official 16 and 4 at 256), TV weight 200.",
    ],
}


def _card_head(name: str, pth: Path) -> dict:
    """The fields every card starts with: name, file, format, parameter count, sha256."""
    from llie_core.registry import get_spec

    return {
        "name": name,
        "file": pth.name,
        "format": "plain state_dict (torch.save), load with torch.load(weights_only=True)",
        "params": get_spec(name).params,
        "sha256": sha256_of(pth),
    }


def write_card(name: str, evals: dict[str, dict]) -> Path:
    """Write llie_core/weights/NAME.yaml from the run's config/summary, the files and the evaluations."""
    run = RUNS / name
    summary = yaml.safe_load((run / "summary.yaml").read_text())
    cfg = load_config(CONFIGS / f"{name}.yaml")

    pth = WEIGHTS / f"{name}.pth"
    onnx = WEIGHTS / f"{name}.onnx"
    if sha256_of(pth) != summary["model_sha256"]:
        raise ValueError(f"{pth} is not the model of {run} (sha256 differs): run install first")
    figures, targets = _figures(name, evals)
    losses = {
        "weights": {"tv": cfg.loss.tv, "spa": cfg.loss.spa, "col": cfg.loss.col, "exp": cfg.loss.exp},
        "exposure_patch": cfg.loss.exposure_patch,
        "exposure_target_e": cfg.loss.exposure_target,
        "spa_pool": cfg.loss.spa_pool,
    }
    if cfg.mode == "distill":
        d = cfg.distill
        losses = {
            "stage1": {
                "epochs": d.stage1_epochs,
                "multi_region_exposure": d.stage1_exposure,
                "exposure_patches": d.stage1_patches,
                "tv": d.stage1_tv,
                "gamma_augmentation": cfg.data.gamma_range,
            },
            "stage2": {
                "epochs": cfg.epochs - d.stage1_epochs,
                "kd": d.kd,
                "kd_terms": f"MSE + {d.kd_ssim}*(1 - SSIM)",
                "feature_curve_response_mse": d.feature,
                "task": d.task,
                "task_losses": losses,
            },
            "teacher": {
                "model": d.teacher,
                "weights": d.teacher_weights,
                "sha256": sha256_of(WEIGHTS / "zero_dce_pp.pth") if d.teacher_weights.startswith("llie_core") else None,
            },
        }
    how = "distilled from llie zero_dce_pp" if cfg.mode == "distill" else "zero-reference, from scratch"
    card = {
        **_card_head(name, pth),
        "onnx": {"file": onnx.name, "graph": "estimator", "sha256": sha256_of(onnx)} if onnx.is_file() else None,
        "provenance": (
            f"llie's own training ({how}), SICE part 1, {summary['epochs']} epochs, seed {cfg.seed}; "
            f"re-create with `{MAKE_COMMAND}`"
        ),
        "command": summary["command"],
        "recreate_all": MAKE_COMMAND,
        "config": f"training/configs/{name}.yaml",
        "seed": cfg.seed,
        "data": {
            "root": cfg.data.root,
            "images": summary["training_images"],
            "source": "SICE part 1 (2,002 multi-exposure images, 512x512) from Li-Chongyi/Zero-DCE_extension @09f202b",
            "terms": "SICE terms, research use",
            "views": f"{cfg.data.image_size}x{cfg.data.image_size} resized random crops "
            f"({cfg.data.min_crop_fraction:.0%}-100% side), {cfg.data.images_per_epoch or 'all'} images per epoch, "
            "horizontal flips",
        },
        "training": {
            "mode": cfg.mode,
            "epochs": summary["epochs"],
            "iterations": summary["iterations"],
            "batch_size": cfg.batch_size,
            "scale_factor": cfg.scale_factor,
            "optimiser": f"Adam lr {cfg.optim.lr:g} ({cfg.optim.schedule} to {cfg.optim.lr_min:g}), weight decay "
            f"{cfg.optim.weight_decay:g}, grad-norm clip {cfg.optim.grad_clip:g}",
            "wall_time_s": summary["wall_time_s"],
            "resumed": bool(summary.get("resumed", False)),  # interrupted and continued with --resume
            "device": f"{summary['device']}, {summary['threads']} thread(s)",
            "torch": summary["torch"],
            "final_loss": _round(summary["final_loss"]),
        },
        "losses": losses,
        "evaluation": {
            "command": f"python -m training.publish eval {'zero_dce' if name == 'zero_dce' else 'distill'}",
            "sets": "../shared/data/lowlight/{dicm, lime, lol_eval15_low}, longer side <= 512 (INTER_AREA); "
            "'all' = mean over the 88 images",
            "niqe": (
                "numpy/scipy port of Mittal et al. 2013 with the LIVE pristine model (llie_core/metrics/niqe_model.py)"
            ),
            "figures": figures,
            "targets": targets,
        },
        "notes": NOTES[name],
    }
    path = WEIGHTS / f"{name}.yaml"
    path.write_text(yaml.safe_dump(card, sort_keys=False, allow_unicode=True, width=120))
    return path


# folder under runs/eval → (backend, images): the shipped int8 graph on every held-out image, the fp32 checkpoint
# on torch on the first 30 (by name) to measure what int8 costs
RAW_EVAL: dict[str, tuple[str | None, int | None]] = {"raw": (None, None), "raw_fp32": ("torch", 30)}


def run_raw_eval(threads: int = 1) -> None:
    """``llie eval raw`` on the held-out road images: the shipped int8 graph and the fp32 checkpoint on torch."""
    from llie_core.cli import main as llie_main

    for folder, (backend, images) in RAW_EVAL.items():
        model = "llpacknet" if backend is None else f"llpacknet:{WEIGHTS / 'llpacknet.pth'}"
        argv = ["eval", "raw", "--model", model, "-o", str(EVAL_DIR / folder), "--threads", str(threads)]
        argv += ([] if backend is None else ["--backend", backend]) + (
            [] if images is None else ["--max-images", str(images)]
        )
        status = llie_main(argv)
        if status:
            raise SystemExit(status)


def _raw_figures() -> dict:
    """The card's figures: eval raw (int8, fp32) per regime and row, amplification, and bench.json when present."""
    figures: dict = {}
    for folder in RAW_EVAL:
        path = EVAL_DIR / folder / "report.json"
        if path.is_file():
            report = json.loads(path.read_text())
            figures[folder] = {"images": report["images"]} | {
                name: {"rows": entry["rows"], "amplification": entry["amplification"]}
                for name, entry in report["regimes"].items()
            }
    bench = EVAL_DIR / "raw_bench" / "bench.json"
    if bench.is_file():
        keep = ("model", "backend", "resolution", "threads", "median_ms", "estimate_ms", "apply_ms", "torch_eager_ms")
        figures["bench"] = [{k: row[k] for k in keep} for row in json.loads(bench.read_text())]
    return _round(figures)


def _raw_targets(figures: dict) -> list[dict]:
    targets = []
    for name, entry in figures.get("raw", {}).items():
        if name == "images":
            continue
        rows = entry["rows"]
        ours, plain, dce = rows["llpacknet"], rows["naive"], rows["naive+tiny_dce"]
        targets += [
            {
                "target": f"{name}: PSNR >= naive + 5 dB (demosaic + true ratio + gamma), PSNR and SSIM above naive "
                "and naive + tiny_dce",
                "ours_metered": {"psnr": ours["psnr"], "ssim": ours["ssim"]},
                "ours_true_ratio": {k: rows["llpacknet (true ratio)"][k] for k in ("psnr", "ssim")},
                "naive": {"psnr": plain["psnr"], "ssim": plain["ssim"]},
                "naive_tiny_dce": {"psnr": dce["psnr"], "ssim": dce["ssim"]},
                "met": bool(
                    ours["psnr"] >= plain["psnr"] + 5.0
                    and ours["psnr"] > dce["psnr"]
                    and ours["ssim"] > max(plain["ssim"], dce["ssim"])
                ),
            },
            {
                "target": f"{name}: amplification estimate within 25% of the true ratio on >= 90% of frames",
                "ours": entry["amplification"]["within_25pct"],
                "met": bool(entry["amplification"]["within_25pct"] >= 0.9),
            },
        ]
    return targets


def write_raw_card(name: str) -> Path:
    """Write llie_core/weights/NAME.yaml for a RAW model from its run, its files and the eval raw reports."""

    run = RUNS / name
    summary = yaml.safe_load((run / "summary.yaml").read_text())
    cfg = load_config(CONFIGS / f"{name}.yaml")
    pth, onnx = WEIGHTS / f"{name}.pth", WEIGHTS / f"{name}.onnx"
    if sha256_of(pth) != summary["model_sha256"]:
        raise ValueError(f"{pth} is not the model of {run} (sha256 differs): run install first")
    figures = _raw_figures()
    raw = cfg.raw
    card = {
        **_card_head(name, pth),
        "onnx": {
            "file": onnx.name,
            "graph": "estimator (packed RAW 256×h×w → 192×2h×2w sRGB sub-pixels; the engine packs and unpacks)",
            "precision": "int8 (onnxruntime static quantisation, QOperator; weights per channel; training/quantize.py)",
            "sha256": sha256_of(onnx),
        }
        if onnx.is_file()
        else None,
        "input": "RAW Bayer mosaic (any pattern, repacked to RGGB), black level subtracted, divided by white − black, "
        "multiplied by the amplification (metered: llie_core.amplification; or explicit)",
        "output": "sRGB (gamma-encoded, display-referred), 8 bits",
        "provenance": f"llie's own training on synthetic dark RAW frames of SICE part 1, {summary['epochs']} epochs, "
        f"seed {cfg.seed}; re-create with `make -C training llpacknet`",
        "command": summary["command"],
        "config": f"training/configs/{name}.yaml",
        "seed": cfg.seed,
        "data": {
            "root": cfg.data.root,
            "images": summary["training_images"],
            "selection": f"mean sRGB brightness in {raw.mean_range}",
            "source": "SICE part 1 (2,002 multi-exposure images, 512x512) from Li-Chongyi/Zero-DCE_extension @09f202b",
            "terms": "SICE terms, research use",
            "synthesis": {
                "camera": "random per crop (Brooks et al. 2019: white balance, exposure gain, colour matrix, tone)",
                "ratio": f"log-uniform {raw.ratio_range}",
                "amplification_jitter": f"log-uniform {raw.jitter_range} (target rendered at the input's exposure)",
                "full_well_e": f"log-uniform {raw.full_well_range}",
                "read_sigma_e": f"uniform {raw.read_sigma_range}",
                "row_sigma_e": f"uniform {raw.row_sigma_range}",
                "bit_depths": raw.bit_depths,
            },
            "crops": f"{cfg.data.image_size}x{cfg.data.image_size} mosaics ({cfg.data.min_crop_fraction:.0%}-100% "
            "crops, area-resized, horizontal flips)",
        },
        "training": {
            "epochs": summary["epochs"],
            "iterations": summary["iterations"],
            "batch_size": cfg.batch_size,
            "loss": "L1 on sRGB",
            "optimiser": f"Adam lr {cfg.optim.lr:g} ({cfg.optim.schedule} to {cfg.optim.lr_min:g}), grad-norm clip "
            f"{cfg.optim.grad_clip:g}",
            "wall_time_s": summary["wall_time_s"],
            "resumed": bool(summary.get("resumed", False)),
            "device": f"{summary['device']}, {summary['threads']} thread(s)",
            "torch": summary["torch"],
            "final_loss": _round(summary["final_loss"]),
        },
        "evaluation": {
            "command": "python -m training.publish eval raw (llie eval raw; int8 = the shipped graph, fp32 = the .pth)",
            "sets": "highway_dev evaluation part (150 images, detect_eval.split_names), auto-exposed, "
            "raw100/raw300 (llie_core.raw_eval.RAW_REGIMES); never trained on",
            "figures": figures,
            "targets": _raw_targets(figures),
        },
        "notes": RAW_NOTES.get(name, []),
    }
    path = WEIGHTS / f"{name}.yaml"
    path.write_text(yaml.safe_dump(card, sort_keys=False, allow_unicode=True, width=120))
    return path


RAW_NOTES: dict[str, list[str]] = {
    "llpacknet": [
        "Schedule as run: epochs 1-8 under a 36-epoch cosine schedule, then resumed with epochs=18 (the cosine "
        "shortened from epoch 9 on) and resumed once more after epoch 12 (a stopped session); 18 epochs in all, "
        "ending at lr 1e-6. `make -C training llpacknet` runs the 18-epoch schedule in one go.",
        "Output: sRGB (gamma-encoded) 8-bit; the white balance, colour matrix and tone curve are the network's own "
        "(learned from random Brooks et al. cameras), so colours of a real camera may differ from its rendering.",
        "Input amplification: metered on the green sites (llie_core.amplification) unless given (node parameter "
        "amplification, llie enhance --amplification); trained with a 0.7-1.4 error on it.",
        "The shipped ONNX is the int8 estimator graph (Pack and UnPack are compiled numba kernels around it); the "
        ".pth runs on torch in fp32.",
        "Trained on synthetic RAW only: no real dark RAW pair was available (../shared/data/raw holds one dim DNG).",
    ]
}


def main(argv: list[str] | None = None) -> int:
    """Entry point: install | eval | cards."""
    parser = argparse.ArgumentParser(
        prog="python -m training.publish", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("install")
    p.add_argument("name", choices=["zero_dce", "zero_dce_pp", "tiny_dce", *RAW_MODELS])
    p.add_argument("--no-onnx", action="store_true")
    p = sub.add_parser("eval")
    p.add_argument("group", choices=sorted([*SUITES, "raw"]))
    p.add_argument("--threads", type=int, default=0)
    p = sub.add_parser("cards")
    p.add_argument("names", nargs="*", default=["zero_dce_pp", "tiny_dce", "zero_dce", *RAW_MODELS])
    args = parser.parse_args(argv)
    if args.cmd == "install":
        print(f"installed {install(args.name, onnx=not args.no_onnx)}")
    elif args.cmd == "eval" and args.group == "raw":
        run_raw_eval(threads=args.threads or 1)
    elif args.cmd == "eval":
        run_eval(args.group, threads=args.threads)
    else:
        evals = {g: e for g in SUITES if (e := _load_eval(g)) is not None}
        for name in args.names:
            if not (RUNS / name / "summary.yaml").is_file():
                print(f"skipped {name}: no finished run in {RUNS / name}", file=sys.stderr)
                continue
            print(f"wrote {write_raw_card(name) if name in RAW_MODELS else write_card(name, evals)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
