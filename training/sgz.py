"""SGZ training (Zheng and Gupta 2022): Zero-DCE++'s network, zero-reference losses and a semantic loss.

Loss = w_tv·TV(A) + w_spa·spa8 + w_col·col + w_exp·exp(E) + w_sem·focal, where spa8 is the spatial
consistency with 8 neighbours (diagonals weighted 0.5) and focal is ``task_loss.semantic_focal_loss``
(γ = 2, towards the guide's own argmax classes) of a frozen detector on the enhanced image. SGZ's guide is
a 21-class segmentation network that cannot be obtained here; llie's users care about a detector, so the
frozen ultralytics detector the pipeline runs is the guide.

Optionally part of every batch comes from the TRAINING part of a labelled detection folder (never its
held-out part, ``detect_eval.split_names``), darkened by the sensor noise model at a random regime, so the
guide also sees dark, noisy road scenes like those the enhancer will be deployed on. No labels are used.
With ``semantic.dark_size`` those views are whole frames enhanced at the deployment scale (``dark_scale``): the
network then sees the low-resolution thumbnail it gets at test, where the frame's noise is averaged away, while the
detector sees the full-resolution output with the noise its curves amplified; crops at the training scale (s = 1)
show the network pixel-level noise that it never sees at s = 12.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import torch

from llie_core.models.dce import CurveModel
from training.config import TrainConfig, resolve_path
from training.distill import load_teacher, output_distillation
from training.engine import PatchSampler, pick_device, read_rgb, run_training
from training.task_loss import FrozenDetector, semantic_focal_loss
from training.zero_reference import task_losses


def dark_training_files(root: str | Path) -> list[Path]:
    """The training part (never the held-out part) of a labelled detection folder's images; error if empty."""
    from llie_core.detect_eval import load_dataset

    dataset = load_dataset(resolve_path(root), part="train")
    if not dataset.labelled:
        raise ValueError(f"semantic.dark_root {root}: expected a labelled folder (images/ and labels/) to split")
    files = [item.path for item in dataset.images]
    if not files:
        raise FileNotFoundError(f"semantic.dark_root {root}: no training images")
    return files


class DarkMixSampler(PatchSampler):
    """PatchSampler whose last ``semantic.dark_per_batch`` views of each batch are darkened detection images.

    A dark view: a random square crop (side ``dark_crop`` × image_size at native resolution), darkened with
    a random regime of ``semantic.dark_regimes`` (``llie_core.noise.darken``), area-resized to image_size,
    optional flip; with ``semantic.dark_size`` N > 0 the whole frame, darkened, area-resized to N×N, and the
    batch is a dict {"images": the SICE views, "dark": the dark frames}. Every draw is seeded by (seed, epoch,
    step), so resume is exact.
    """

    def __init__(self, files: list[Path], cfg: TrainConfig) -> None:
        super().__init__(files, cfg)
        from llie_core.noise import get_regime

        sem = cfg.semantic
        self.dark_files = dark_training_files(sem.dark_root) if sem.dark_per_batch > 0 else []
        self.regimes = [get_regime(r) for r in sem.dark_regimes]

    def load_batch(self, indices: list[int], epoch: int, step: int, gamma: bool = True) -> torch.Tensor | dict:
        """N×3×S×S in [0, 1]: the batch's SICE views, the last ``dark_per_batch`` replaced by dark road views
        (with ``dark_size``: {"images": the SICE views, "dark": k×3×dark_size×dark_size frames, "clean": the same
        frames before darkening, "regimes": their regime names})."""
        k = min(self.cfg.semantic.dark_per_batch, len(indices))
        if k == 0:
            return super().load_batch(indices, epoch, step, gamma)
        light = super().load_batch(indices[: len(indices) - k], epoch, step, gamma) if k < len(indices) else None
        views = [self._dark_view(epoch, step, j) for j in range(k)]
        dark = torch.stack([v[0] for v in views])
        if self.cfg.semantic.dark_size:
            if light is None:
                raise ValueError("semantic.dark_size needs dark_per_batch < batch_size (SICE views carry the losses)")
            clean = torch.stack([v[1] for v in views])
            return {"images": light, "dark": dark, "clean": clean, "regimes": [v[2] for v in views]}
        return dark if light is None else torch.cat([light, dark])

    def _dark_view(self, epoch: int, step: int, j: int) -> tuple[torch.Tensor, torch.Tensor, str]:
        """(the dark view, the same view before darkening, the regime's name)."""
        from llie_core.noise import darken

        rng = np.random.default_rng([self.cfg.seed, epoch, step + 1, 1000 + j])
        size = self.cfg.data.image_size
        img = read_rgb(self.dark_files[int(rng.integers(len(self.dark_files)))])
        h, w = img.shape[:2]
        lo, hi = self.cfg.semantic.dark_crop
        side = min(h, w, int(round(size * rng.uniform(lo, hi))))
        y = int(rng.integers(0, h - side + 1))
        x = int(rng.integers(0, w - side + 1))
        regime = self.regimes[int(rng.integers(len(self.regimes)))]
        view = img[y : y + side, x : x + side]
        if self.cfg.semantic.dark_size:
            # The whole frame, as the camera gives it (the crop is still drawn, so the draws after it stay the same).
            view, size = img, self.cfg.semantic.dark_size
        view = np.ascontiguousarray(view)
        pair = [cv2.resize(v, (size, size), interpolation=cv2.INTER_AREA) for v in (darken(view, regime, rng), view)]
        if self.cfg.data.hflip and rng.random() < 0.5:
            pair = [v[:, ::-1] for v in pair]
        dark, clean = (torch.from_numpy(np.ascontiguousarray(v)).permute(2, 0, 1).float() / 255.0 for v in pair)
        return dark, clean, regime.name


@contextmanager
def estimation_scale(model: CurveModel, scale_factor: int) -> Iterator[CurveModel]:
    """The model with its scale factor set to ``scale_factor`` inside the block (restored after)."""
    saved = model.scale_factor
    model.scale_factor = scale_factor
    try:
        yield model
    finally:
        model.scale_factor = saved


def needs_teacher(cfg: TrainConfig) -> bool:
    """Whether the sgz step distils anything towards the teacher (distill_regimes, or look_kd on the SICE views)."""
    return bool(cfg.semantic.distill_regimes) or cfg.semantic.look_kd > 0


def make_step(cfg: TrainConfig, detector: FrozenDetector, teacher: CurveModel | None = None):
    """Step function: the zero-reference losses (cfg.loss) plus semantic.weight × the detector's focal loss on the
    SICE views, and semantic.dark_weight × it on the dark frames enhanced at ``semantic.dark_scale`` when the batch
    has them; frames of ``semantic.distill_regimes`` are distilled towards ``teacher`` at that scale instead, and
    with ``semantic.look_kd`` the SICE views' output at ``semantic.look_scale`` is distilled towards it too."""
    sem = cfg.semantic
    if needs_teacher(cfg) and teacher is None:
        raise ValueError("semantic.distill_regimes or semantic.look_kd needs the teacher (distill.teacher_weights)")
    dark_weight = sem.weight if sem.dark_weight < 0 else sem.dark_weight
    look = dataclasses.replace(cfg.distill, kd=sem.look_kd)

    def focal_of(enhanced: torch.Tensor, weight: float, clean: torch.Tensor | None = None) -> torch.Tensor:
        reference = None
        if clean is not None:
            with torch.no_grad():
                reference = detector(clean)["scores"]
        return weight * semantic_focal_loss(detector(enhanced)["scores"], sem.gamma, sem.weighted, reference)

    def dark_losses(model: CurveModel, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        with estimation_scale(model, sem.dark_scale):
            out = model(batch["dark"])
        distilled = torch.tensor([r in sem.distill_regimes for r in batch["regimes"]])
        # the distillation columns only in runs that distil, so that the loss log keeps one set of columns
        parts = {"sem_dark": 0.0} | ({"kd_mse": 0.0, "kd_ssim": 0.0} if sem.distill_regimes else {})
        loss = out.new_zeros(())
        if not distilled.all():
            clean = batch["clean"][~distilled] if sem.dark_targets == "clean" else None
            focal = focal_of(out[~distilled], dark_weight, clean)
            loss, parts["sem_dark"] = loss + focal, float(focal.detach())
        if distilled.any():
            with torch.no_grad(), estimation_scale(teacher, sem.dark_scale):
                target = teacher(batch["dark"][distilled])
            kd, kd_parts = output_distillation(out[distilled], target, cfg.distill)
            loss = loss + kd
            parts.update(kd_parts)
        return loss, parts

    def look_losses(model: CurveModel, x: torch.Tensor, enhanced: torch.Tensor) -> tuple[torch.Tensor, dict]:
        if sem.look_scale != model.scale_factor:
            with estimation_scale(model, sem.look_scale):
                enhanced = model(x)
        with torch.no_grad(), estimation_scale(teacher, sem.look_scale):
            target = teacher(x)
        kd, kd_parts = output_distillation(enhanced, target, look)
        return kd, {"look_mse": kd_parts["kd_mse"], "look_ssim": kd_parts["kd_ssim"]}

    def step(model: CurveModel, batch: torch.Tensor | dict, epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        x = batch["images"] if isinstance(batch, dict) else batch
        enhanced, curves = model.enhance_with_curves(x)
        task, parts = task_losses(cfg, enhanced, x, curves)
        focal = focal_of(enhanced, sem.weight)
        parts = {**parts, "sem": float(focal.detach())}
        if sem.look_kd > 0:
            kd, look_parts = look_losses(model, x, enhanced)
            task = task + kd
            parts.update(look_parts)
        if isinstance(batch, dict):
            dark, dark_parts = dark_losses(model, batch)
            focal = focal + dark
            parts.update(dark_parts)
        return task + focal, parts

    return step


def train_sgz(cfg: TrainConfig, resume: bool = False, command: str = "", progress: bool = True) -> Path:
    """Train cfg.model with SGZ's losses and the frozen detector as semantic guide; returns the run directory."""
    if cfg.mode != "sgz":
        raise ValueError(f"config {cfg.name!r} has mode {cfg.mode!r}, not 'sgz'")
    device = pick_device(cfg.device)
    detector = FrozenDetector(resolve_path(cfg.semantic.detector), device)
    teacher = load_teacher(cfg, device) if needs_teacher(cfg) else None
    step = make_step(cfg, detector, teacher)
    return run_training(cfg, step, resume=resume, command=command, progress=progress, make_sampler=DarkMixSampler)
