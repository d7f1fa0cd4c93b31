"""Torch models built by name: ``create_model("tiny_dce", weights=...)``, ``create_model("iat", ...)``.

Four families: the Zero-DCE curve models (``CurveModel``), the noise-aware DCE (``NoiseAwareDCE``), the IAT
models (``IATFamily``) and the RAW model LLPackNet (``LLPackNet``: a packed RAW frame in, sRGB out). The name
``iat_student`` covers two layouts: llie's own student (the default, ``BoundedIATStudent``) and the
published one (``IATStudent``), chosen by the checkpoint's keys.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from llie_core.models.checkpoints import CheckpointError, load_weights, read_state_dict
from llie_core.models.dce import MODEL_CLASSES, CurveModel, apply_curves
from llie_core.models.iat import IAT, IATFamily, IATStudent, apply_maps
from llie_core.models.iat_student import BoundedIATStudent
from llie_core.models.llpacknet import TOPOLOGIES, LLPackNet
from llie_core.models.noise_dce import DENOISE_CLASSES, NoiseAwareDCE
from llie_core.registry import default_scale_factor, get_spec, reference_variant_of, resolve_weights

__all__ = [
    "CheckpointError",
    "CurveModel",
    "BoundedIATStudent",
    "IATFamily",
    "IATStudent",
    "LLPackNet",
    "NoiseAwareDCE",
    "apply_curves",
    "apply_maps",
    "create_model",
    "resolve_weights",
]

_OPTIONS = {
    "curve": ("scale_factor",),
    "denoise_curve": ("scale_factor",),
    "iat": ("scale_factor", "input_range"),
    "raw": ("scale_factor",),
}


def iat_class(name: str, path: Path | None) -> type[IATFamily]:
    """The IAT-family class of ``name`` for a checkpoint (or none): the published student's layout, or llie's."""
    if name == "iat":
        return IAT
    if path is not None and path.is_file() and IATStudent.PUBLISHED_KEY in read_state_dict(path):
        return IATStudent
    return BoundedIATStudent


def create_model(name: str, weights: str | Path | None = None, **options) -> nn.Module:
    """Build a model by name; weights: None (shipped default if any), "reference[:VARIANT]", or a path.

    Options: ``scale_factor`` (int >= 1; default: ``registry.default_scale_factor``, as the engine's);
    IAT models also ``input_range`` ("unit" for [0, 1] or "signed" for Normalize(0.5, 0.5) input),
    which by default follows the weights: a published checkpoint is recognised by its content,
    anything else gets the registry's default. The module is returned in eval mode on the CPU; it
    takes and returns RGB in [0, 1] either way, except the RAW model (packed RGGB planes in, sRGB out).
    """
    spec = get_spec(name)
    if spec.kind not in _OPTIONS:
        raise ValueError(f"{name!r} is a {spec.kind} method, not a torch model; use create_enhancer")
    valid = _OPTIONS[spec.kind]
    unknown = set(options) - set(valid)
    if unknown:
        raise TypeError(f"unknown options for {name!r}: {sorted(unknown)}; valid: {list(valid)}")
    path = resolve_weights(name, weights)
    if options.get("scale_factor") is None:
        options["scale_factor"] = default_scale_factor(name, weights)
    if spec.kind == "curve":
        model = MODEL_CLASSES[name](**options)
    elif spec.kind == "denoise_curve":
        model = DENOISE_CLASSES[name](**options)
    elif spec.kind == "raw":
        model = LLPackNet(**TOPOLOGIES[name], spec_name=name, **options)
    else:
        if options.get("input_range") is None and path is not None and path.is_file():
            variant = reference_variant_of(name, path)
            options["input_range"] = variant.input_range if variant is not None else None
        model = iat_class(name, path)(**options)
    if path is not None:
        load_weights(model, path)
    return model.eval()
