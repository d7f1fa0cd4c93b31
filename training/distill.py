"""Knowledge distillation of TinyDCE from a frozen Zero-DCE++ teacher, in TinyDCE's two stages.

Stage 1 (``distill.stage1_epochs``): task-only warm-up, multi-region exposure + TV of the curves,
on gamma-augmented inputs (as the TinyDCE authors describe).
Stage 2: kd·(MSE + kd_ssim·(1 − SSIM)) on the teacher's output + feature·(curve-response MSE)
+ task·(zero-reference losses). The authors' KD also has a VGG19 perceptual term; VGG needs
ImageNet weights that cannot be downloaded here, so it is left out (no loss here needs a download).

The "feature" term compares the two networks' curve maps at the estimation resolution, where they
are cheap. Teacher (8 iterations) and student (4) use the same LE curve a different number of
times, so the maps are not compared directly: each is turned into its tone curve, the response
LE^k(p; a) at probe intensities p, and those responses are compared. This constrains the whole
per-pixel tone curve, not only its value at the pixel's own intensity.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from llie_core.losses import (
    illumination_smoothness_loss,
    multi_region_exposure_loss,
    ssim,
    zero_reference_loss,
)
from llie_core.models import create_model
from llie_core.models.dce import CurveModel, apply_curves, estimation_size
from training.config import DistillConfig, TrainConfig, resolve_path
from training.engine import pick_device, run_training

PROBES = torch.linspace(0.05, 0.95, 10)  # intensities at which tone curves are compared
PARTS = ("kd_mse", "kd_ssim", "feature", "task", "exp", "tv")  # every step reports all of them (CSV columns)


def curves_two_resolutions(model: CurveModel, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(estimation-resolution input, its curve maps, full-resolution maps), computed as CurveModel.curves does."""
    s = model.scale_factor
    height, width = x.shape[-2:]
    if s == 1:
        maps = model.estimate(x)
        return x, maps, maps
    low = F.interpolate(x, size=estimation_size(height, width, s), mode="bilinear", align_corners=False)
    maps = model.estimate(low)
    return low, maps, F.interpolate(maps, size=(height, width), mode="bilinear", align_corners=True)


def curve_response(maps: torch.Tensor, iterations: int, probes: torch.Tensor = PROBES) -> torch.Tensor:
    """Tone-curve values LE^iterations(p; a) at each probe p: N×C×h×w maps → N×(C·P)×h×w (3-channel maps)."""
    p = probes.to(maps).view(1, -1, 1, 1, 1)  # 1×P×1×1×1
    a = maps.unsqueeze(1)  # N×1×3×h×w
    y = p.expand(maps.shape[0], -1, *maps.shape[1:])
    for _ in range(iterations):
        y = y + a * (y * y - y)
    return y.flatten(1, 2)


def load_teacher(cfg: TrainConfig, device: torch.device) -> CurveModel:
    """The frozen teacher at the training scale factor: a weights path, or 'reference' (published teacher)."""
    weights = cfg.distill.teacher_weights
    if weights == "reference":
        from llie_core.registry import shared_dir

        path = shared_dir() / "weights" / "reference" / "tiny_dce_teacher_zero_dce_pp.pth"
    else:
        path = resolve_path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"teacher weights {path} not found (train the teacher first, or --teacher reference)")
    teacher = create_model(cfg.distill.teacher, weights=path, scale_factor=cfg.scale_factor).to(device)
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher.eval()


def output_distillation(out: torch.Tensor, target: torch.Tensor, d: DistillConfig) -> tuple[torch.Tensor, dict]:
    """d.kd·(MSE + d.kd_ssim·(1 − SSIM)) of an output against the teacher's; (loss, {kd_mse, kd_ssim} floats)."""
    kd_mse = F.mse_loss(out, target)
    kd_ssim = 1 - ssim(out, target)
    loss = d.kd * (kd_mse + d.kd_ssim * kd_ssim)
    return loss, {"kd_mse": float(kd_mse.detach()), "kd_ssim": float(kd_ssim.detach())}


def make_step(cfg: TrainConfig, teacher: CurveModel):
    """Step function implementing both stages (stage by epoch)."""
    d = cfg.distill
    weights = {"tv": cfg.loss.tv, "spa": cfg.loss.spa, "col": cfg.loss.col, "exp": cfg.loss.exp}

    def step(model: CurveModel, x: torch.Tensor, epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        parts = dict.fromkeys(PARTS, 0.0)
        if epoch < d.stage1_epochs:
            enhanced, curves = model.enhance_with_curves(x)
            exp = d.stage1_exposure * multi_region_exposure_loss(
                enhanced, tuple(d.stage1_patches), cfg.loss.exposure_target
            )
            tv = d.stage1_tv * illumination_smoothness_loss(curves)
            parts.update(exp=float(exp.detach()), tv=float(tv.detach()))
            return exp + tv, parts
        # Stage 2: the gamma augmentation belongs to stage 1 only.
        _, s_maps, s_full = curves_two_resolutions(model, x)
        with torch.no_grad():
            _, t_maps, t_full = curves_two_resolutions(teacher, x)
            t_out = apply_curves(x, t_full, teacher.iterations)
        s_out = apply_curves(x, s_full, model.iterations)
        kd, kd_parts = output_distillation(s_out, t_out, d)
        feature = F.mse_loss(curve_response(s_maps, model.iterations), curve_response(t_maps, teacher.iterations))
        task, _ = zero_reference_loss(
            s_out, x, s_full, weights, cfg.loss.exposure_patch, cfg.loss.exposure_target, cfg.loss.spa_pool
        )
        total = kd + d.feature * feature + d.task * task
        parts.update(kd_parts, feature=float(feature.detach()), task=float(task.detach()))
        return total, parts

    return step


def train_distill(cfg: TrainConfig, resume: bool = False, command: str = "", progress: bool = True) -> Path:
    """Distil cfg.model (tiny_dce) from the configured teacher; returns the run directory."""
    if cfg.mode != "distill":
        raise ValueError(f"config {cfg.name!r} has mode {cfg.mode!r}, not 'distill'")
    teacher = load_teacher(cfg, pick_device(cfg.device))
    stage1 = cfg.distill.stage1_epochs

    def stage_of_epoch(epoch: int) -> int:
        return 1 if epoch < stage1 else 2

    # Gamma augmentation (data.gamma_range) is a stage-1 device, as the TinyDCE authors use it.
    return run_training(
        cfg,
        make_step(cfg, teacher),
        stage_of_epoch=stage_of_epoch,
        gamma_in_epoch=lambda epoch: epoch < stage1,
        resume=resume,
        command=command,
        progress=progress,
    )
