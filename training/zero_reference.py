"""Zero-reference training (Zero-DCE / Zero-DCE++): the four no-reference losses, no paired data."""

from __future__ import annotations

from pathlib import Path

import torch

from llie_core.losses import zero_reference_loss
from llie_core.models.dce import CurveModel
from training.config import TrainConfig
from training.engine import run_training


def task_losses(
    cfg: TrainConfig, enhanced: torch.Tensor, original: torch.Tensor, curves: torch.Tensor
) -> tuple[torch.Tensor, dict[str, float]]:
    """w_tv·TV(A) + w_spa·spa + w_col·col + w_exp·exp with cfg.loss's weights and settings: (total, parts)."""
    loss = cfg.loss
    weights = {"tv": loss.tv, "spa": loss.spa, "col": loss.col, "exp": loss.exp}
    return zero_reference_loss(
        enhanced,
        original,
        curves,
        weights,
        loss.exposure_patch,
        loss.exposure_target,
        loss.spa_pool,
        loss.spa_neighbours,
    )


def make_step(cfg: TrainConfig):
    """Step function: enhance, then the four zero-reference losses as in the official code."""

    def step(model: CurveModel, x: torch.Tensor, epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        enhanced, curves = model.enhance_with_curves(x)
        return task_losses(cfg, enhanced, x, curves)

    return step


def train_zero_reference(cfg: TrainConfig, resume: bool = False, command: str = "", progress: bool = True) -> Path:
    """Train cfg.model from scratch with the zero-reference losses; returns the run directory."""
    if cfg.mode != "zero_reference":
        raise ValueError(f"config {cfg.name!r} has mode {cfg.mode!r}, not 'zero_reference'")
    return run_training(cfg, make_step(cfg), resume=resume, command=command, progress=progress)
