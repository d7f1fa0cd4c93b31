"""Torch models of the Zero-DCE family, built by name: ``create_model("tiny_dce", weights=...)``."""

from __future__ import annotations

from pathlib import Path

from llie_core.models.checkpoints import CheckpointError, load_weights
from llie_core.models.dce import MODEL_CLASSES, CurveModel, apply_curves
from llie_core.registry import get_spec, resolve_weights

__all__ = ["CheckpointError", "CurveModel", "apply_curves", "create_model", "resolve_weights"]


def create_model(name: str, weights: str | Path | None = None, **options) -> CurveModel:
    """Build a model by name; weights: None (shipped default if any), "reference", or a path.

    Options: ``scale_factor`` (int >= 1). The module is returned in eval mode on the CPU.
    """
    spec = get_spec(name)
    if spec.kind != "curve":
        raise ValueError(f"{name!r} is a {spec.kind} method, not a torch model; use create_enhancer")
    unknown = set(options) - {"scale_factor"}
    if unknown:
        raise TypeError(f"unknown options for {name!r}: {sorted(unknown)}; valid: ['scale_factor']")
    model = MODEL_CLASSES[name](**options)
    path = resolve_weights(name, weights)
    if path is not None:
        load_weights(model, path)
    return model.eval()
