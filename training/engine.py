"""Shared training machinery: data sampling, the epoch loop, checkpoints with resume, logs and plots."""

from __future__ import annotations

import csv
import hashlib
import math
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import yaml
from torch import nn
from tqdm import tqdm

from llie_core.models.checkpoints import flush_negligible, load_weights
from llie_core.models.dce import MODEL_CLASSES, CurveModel
from llie_core.models.noise_dce import DENOISE_CLASSES, NoiseAwareDCE
from llie_core.registry import resolve_weights
from training.config import TrainConfig, resolve_path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}

# A step function maps (model, batch, epoch) to (loss to minimise, {part: float}); the batch is what the
# sampler's load_batch returns (N×3×H×W images, or a dict of tensors: cached distillation targets, RAW inputs and
# their targets).
StepFn = Callable[[nn.Module, Any, int], tuple[torch.Tensor, dict[str, float]]]


def list_images(root: str | Path, limit: int = 0) -> list[Path]:
    """Sorted image files directly under ``root`` (first ``limit`` if > 0); error if none."""
    folder = resolve_path(root)
    if not folder.is_dir():
        raise FileNotFoundError(f"training data folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no images in training data folder {folder}")
    return files[:limit] if limit > 0 else files


def read_rgb(path: Path) -> np.ndarray:
    """H×W×3 uint8 RGB image; error naming the file if it cannot be decoded."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot read image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class PatchSampler:
    """Seeded random crops (side in [min_fraction, 1] of the shorter side), resized square, optional flip/gamma."""

    def __init__(self, files: list[Path], cfg: TrainConfig) -> None:
        self.files = files
        self.cfg = cfg

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        """Image indices of each batch of an epoch; a function of (seed, epoch) only, so resume is exact."""
        rng = np.random.default_rng([self.cfg.seed, epoch, 0])
        order = rng.permutation(len(self.files))
        n = self.cfg.data.images_per_epoch
        if n > 0:
            order = order[:n]
        bs = self.cfg.batch_size
        batches = [order[i : i + bs].tolist() for i in range(0, len(order) - bs + 1, bs)] or [order.tolist()]
        cap = self.cfg.max_iterations_per_epoch
        return batches[:cap] if cap > 0 else batches

    def undrawn(self) -> list[int]:
        """Indices of the images that no epoch of the run (``cfg.epochs``) draws: training-side images it never saw."""
        drawn = {i for epoch in range(self.cfg.epochs) for batch in self.epoch_batches(epoch) for i in batch}
        return [i for i in range(len(self.files)) if i not in drawn]

    def read(self, index: int) -> np.ndarray:
        """The whole image ``files[index]`` as H×W×3 uint8 RGB, before cropping (subclasses may re-expose it)."""
        return read_rgb(self.files[index])

    def load_batch(self, indices: list[int], epoch: int, step: int, gamma: bool = True) -> torch.Tensor:
        """N×3×S×S float tensor in [0, 1] for the given image indices (``gamma``: apply data.gamma_range)."""
        rng = np.random.default_rng([self.cfg.seed, epoch, step + 1])
        d = self.cfg.data
        out = []
        for i in indices:
            img = self.read(i)
            h, w = img.shape[:2]
            side = int(round(min(h, w) * rng.uniform(d.min_crop_fraction, 1.0)))
            y = int(rng.integers(0, h - side + 1))
            x = int(rng.integers(0, w - side + 1))
            crop = img[y : y + side, x : x + side]
            # INTER_AREA: an honest downscale, like the camera frames the model will see.
            crop = cv2.resize(crop, (d.image_size, d.image_size), interpolation=cv2.INTER_AREA)
            if d.hflip and rng.random() < 0.5:
                crop = crop[:, ::-1]
            t = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1).float() / 255.0
            lo, hi = d.gamma_range
            if (lo, hi) != (1.0, 1.0):
                g = float(rng.uniform(lo, hi))  # drawn even when unused: crops must not depend on ``gamma``
                if gamma:
                    t = t.pow(g)
            out.append(t)
        return torch.stack(out)


def init_dce_weights(model: nn.Module) -> None:
    """The official initialisation of the Zero-DCE family: conv weights N(0, 0.02), biases 0."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def build_model(cfg: TrainConfig) -> CurveModel | NoiseAwareDCE:
    """The model to train: seeded official init (the model's own ``reset_parameters`` if it has one), or
    ``init_weights`` when given."""
    torch.manual_seed(cfg.seed)
    model = {**MODEL_CLASSES, **DENOISE_CLASSES}[cfg.model](scale_factor=cfg.scale_factor)
    if hasattr(model, "reset_parameters"):
        model.reset_parameters()
    else:
        init_dce_weights(model)
    if cfg.init_weights:
        load_weights(model, resolve_weights(cfg.model, cfg.init_weights))
    return model


def to_device(batch: Any, device: torch.device) -> Any:
    """A batch (tensor, or dict of tensors and plain values) moved to ``device``."""
    if isinstance(batch, dict):
        return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
    return batch.to(device)


def pick_device(name: str) -> torch.device:
    """'auto' → cuda when available, else cpu."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but CUDA is not available")
    return torch.device(name)


def cosine_lr(base: float, floor: float, t: int, total: int) -> float:
    """Cosine decay from base (t = 0) to floor (t = total)."""
    if total <= 0:
        return base
    return floor + 0.5 * (base - floor) * (1 + math.cos(math.pi * min(t, total) / total))


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def plot_losses(csv_path: Path, png_path: Path, title: str) -> None:
    """Loss-curve PNG from the CSV log: every column vs iteration, moving-averaged, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return
    its = np.array([int(r["iteration"]) for r in rows])
    keys = [k for k in rows[0] if k not in ("epoch", "iteration", "lr", "stage", "scale")]
    fig, ax = plt.subplots(figsize=(8, 5))
    win = max(1, len(rows) // 50)
    for k in keys:
        v = np.array([float(r[k]) if r[k] else 0.0 for r in rows])
        used = v > 0  # a part absent in one stage (distillation) is logged as 0: plot only where it is used
        if used.sum() < win:
            continue
        smooth = np.convolve(v[used], np.ones(win) / win, mode="valid")
        ax.plot(its[used][win - 1 :], smooth, label=k, lw=2 if k == "total" else 1)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"loss (moving average of {win})")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)


def run_training(
    cfg: TrainConfig,
    step_fn: StepFn,
    stage_of_epoch: Callable[[int], int] | None = None,
    gamma_in_epoch: Callable[[int], bool] | None = None,
    resume: bool = False,
    command: str = "",
    progress: bool = True,
    model: nn.Module | None = None,
    sampler: PatchSampler | None = None,
    make_sampler: Callable[[list[Path], TrainConfig], PatchSampler] = PatchSampler,
) -> Path:
    """Train ``cfg.model`` with ``step_fn``; returns the run directory holding model.pth and the logs.

    ``model`` defaults to the curve model of ``build_model``; ``sampler`` to ``make_sampler`` (a PatchSampler or a
    subclass) over the training files. Each epoch ends with ``checkpoint_last.pt`` (model, optimiser, epoch, wall
    time); ``resume`` continues from it. Learning rate: constant, or cosine restarted at each stage change.
    """
    torch.set_num_threads(cfg.threads)
    # Weights and activations drifting into subnormal floats make CPU convolutions ~3x slower
    # (measured here mid-run); flushing them to zero changes nothing above 1e-38. Only while training: the mode is
    # the whole process's, and loading a checkpoint afterwards must still see its subnormal weights.
    torch.set_flush_denormal(True)
    try:
        device = pick_device(cfg.device)
        run_dir = cfg.run_dir()
        run_dir.mkdir(parents=True, exist_ok=True)
        ckpt_path = run_dir / "checkpoint_last.pt"
        csv_path = run_dir / "loss_log.csv"
        stage_of_epoch = stage_of_epoch or (lambda epoch: 0)
        gamma_in_epoch = gamma_in_epoch or (lambda epoch: True)

        sampler = sampler or make_sampler(list_images(cfg.data.root, cfg.data.limit), cfg)
        model = (model or build_model(cfg)).to(device).train()
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)

        start_epoch, iteration, wall_before = 0, 0, 0.0
        commands = [command]
        if resume:
            if not ckpt_path.is_file():
                raise FileNotFoundError(f"--resume: no checkpoint at {ckpt_path}")
            state = torch.load(ckpt_path, map_location=device, weights_only=True)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            start_epoch, iteration, wall_before = (
                int(state["epoch"]),
                int(state["iteration"]),
                float(state["wall_time"]),
            )
            # Older checkpoints do not record the commands; the summary then names only the resuming one.
            commands = [*state.get("commands", []), command]
            _truncate_log(csv_path, iteration)
        elif csv_path.exists():
            csv_path.unlink()
        with open(run_dir / "config.yaml", "w", encoding="utf-8") as fh:
            yaml.safe_dump(cfg.to_dict(), fh, sort_keys=False)

        # Iterations per stage, for the cosine schedule (restarted when the stage changes).
        per_epoch = [len(sampler.epoch_batches(e)) for e in range(cfg.epochs)]
        stages = [stage_of_epoch(e) for e in range(cfg.epochs)]

        def stage_span(epoch: int) -> tuple[int, int]:
            first = min(e for e in range(cfg.epochs) if stages[e] == stages[epoch])
            last = max(e for e in range(cfg.epochs) if stages[e] == stages[epoch])
            return sum(per_epoch[:first]), sum(per_epoch[first : last + 1])

        t0 = time.perf_counter()
        fieldnames: list[str] | None = None
        last_parts: dict[str, float] = {}
        for epoch in range(start_epoch, cfg.epochs):
            batches = sampler.epoch_batches(epoch)
            seg_start, seg_len = stage_span(epoch)
            bar = tqdm(
                enumerate(batches),
                total=len(batches),
                desc=f"{cfg.name} epoch {epoch + 1}/{cfg.epochs}",
                disable=not progress,
                mininterval=5.0,
                file=sys.stderr,
            )
            for step, indices in bar:
                lr = cfg.optim.lr
                if cfg.optim.schedule == "cosine":
                    lr = cosine_lr(cfg.optim.lr, cfg.optim.lr_min, iteration - seg_start, seg_len)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                x = to_device(sampler.load_batch(indices, epoch, step, gamma_in_epoch(epoch)), device)
                loss, parts = step_fn(model, x, epoch)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"non-finite loss {float(loss)} at epoch {epoch}, step {step}: {parts}")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.optim.grad_clip > 0:
                    nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
                optimizer.step()
                iteration += 1
                last_parts = {"total": float(loss.detach()), **parts}
                bar.set_postfix(loss=f"{last_parts['total']:.4f}", refresh=False)
                if iteration % cfg.log_every == 0:
                    row = {"epoch": epoch, "iteration": iteration, "stage": stages[epoch], "lr": f"{lr:.3e}"}
                    row.update({k: f"{v:.6g}" for k, v in last_parts.items()})
                    if fieldnames is None:
                        fieldnames = list(row)
                    new = not csv_path.exists()
                    with open(csv_path, "a", newline="") as fh:
                        writer = csv.DictWriter(fh, fieldnames=fieldnames, extrasaction="ignore", restval="")
                        if new:
                            writer.writeheader()
                        writer.writerow(row)
            wall = wall_before + time.perf_counter() - t0
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "epoch": epoch + 1,
                "iteration": iteration,
                "wall_time": wall,
                "commands": commands,
            }
            torch.save(state, ckpt_path.with_suffix(".tmp"))
            ckpt_path.with_suffix(".tmp").replace(ckpt_path)  # atomic: a kill mid-save keeps the last good one
            if progress:
                print(
                    f"[{cfg.name}] epoch {epoch + 1}/{cfg.epochs} done, loss {last_parts}, wall {wall:.0f}s", flush=True
                )

        wall = wall_before + time.perf_counter() - t0
        model_path = run_dir / "model.pth"
        torch.save(flush_negligible({k: v.detach().cpu() for k, v in model.state_dict().items()}), model_path)
        if csv_path.exists():
            plot_losses(csv_path, run_dir / "loss_curve.png", f"{cfg.name} ({cfg.model}, {cfg.mode})")
        summary = {
            "name": cfg.name,
            "model": cfg.model,
            "mode": cfg.mode,
            "command": " && ".join(c for c in commands if c),
            "resumed": len(commands) > 1,
            "epochs": cfg.epochs,
            "iterations": iteration,
            "training_images": len(sampler.files),
            "data_root": str(cfg.data.root),
            "wall_time_s": round(wall, 1),
            "device": str(device),
            "threads": cfg.threads,
            "final_loss": last_parts,
            "model_sha256": sha256_of(model_path),
            "torch": str(torch.__version__),
            "python": platform.python_version(),
        }
        with open(run_dir / "summary.yaml", "w", encoding="utf-8") as fh:
            yaml.safe_dump(summary, fh, sort_keys=False)
        return run_dir
    finally:
        torch.set_flush_denormal(False)


def _truncate_log(csv_path: Path, iteration: int) -> None:
    # Rows written after the checkpoint was taken would be repeated by the resumed run: drop them.
    if not csv_path.exists():
        return
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
        fieldnames = list(rows[0]) if rows else []
    rows = [r for r in rows if int(r["iteration"]) <= iteration]
    with open(csv_path, "w", newline="") as fh:
        if fieldnames:
            writer = csv.DictWriter(fh, fieldnames=fieldnames)
            writer.writeheader()
            writer.writerows(rows)
