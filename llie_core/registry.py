"""One table of every enhancement method llie knows, readable without torch.

Shipped weights lie in ``weights/`` as NAME.pth (and NAME.onnx, the estimator graph) with a model card
NAME.yaml. A card may set ``default_scale_factor``: the scale factor the engine uses with those weights
unless told otherwise (a student trained for low-resolution estimation runs at its training scale), while
the published reference weights keep the registry's ``ModelSpec.default_scale_factor``. It may also set
``max_estimation_side``: the estimator then sees at most that many pixels on the frame's longer side (the
scale factor grows with the frame, ``curves.frame_scale_factor``), so small images run near full resolution
and camera frames stay fast.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

# The model used wherever none is named: create_enhancer(), llie enhance / bag / live, the nodes' `model` parameter.
DEFAULT_MODEL = "noise_aware_dce"


INPUT_RANGES = ("unit", "signed")  # what a network is fed: [0, 1], or Normalize(0.5, 0.5) → [-1, 1]


@dataclass(frozen=True)
class ReferenceVariant:
    """One published checkpoint of a model: its file in ../shared/weights/reference and what it was trained on.

    ``sha256`` identifies the file wherever it is copied, so loading it by path keeps its ``input_range``.
    """

    file: str
    sha256: str
    input_range: str = "unit"


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows of one method: enough to list it and to build it lazily."""

    name: str
    # the family: "curve" (a DCE-family network), "denoise_curve" (noise-aware blend + curves), "iat" (an IAT-family
    # network), "raw" (RAW mosaic in: LLPackNet) or "classical"
    kind: str
    description: str
    params: int = 0
    iterations: int = 0
    curve_maps: int = 0  # 1: one map reused every iteration; n: one map per iteration
    default_scale_factor: int = 1  # of the reference weights (and of shipped ones whose card sets none)
    reference_weights: str | None = None  # file name in ../shared/weights/reference
    options: dict = field(default_factory=dict)
    # Named published checkpoints ("reference:NAME"); the one whose file is reference_weights is the default.
    reference_variants: dict[str, ReferenceVariant] = field(default_factory=dict)
    input_range: str = "unit"  # of weights that are no known published variant (our own trainings)

    @property
    def is_network(self) -> bool:
        """Whether this is a network (estimated by onnxruntime/torch, with weights) rather than a classical method."""
        return self.kind != "classical"

    @property
    def curve_channels(self) -> int:
        """Channels of the curve tensor the network outputs (3 per map)."""
        return 3 * self.curve_maps

    def default_weights(self, suffix: str) -> Path:
        """Path of the shipped weights file with this suffix (".pth" or ".onnx"); may not exist."""
        return WEIGHTS_DIR / f"{self.name}{suffix}"


_SPECS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add a method to the registry (names are unique)."""
    if spec.name in _SPECS:
        raise ValueError(f"model {spec.name!r} is registered twice")
    _SPECS[spec.name] = spec
    return spec


def get_spec(name: str) -> ModelSpec:
    """Look a method up by name; an unknown name lists the valid ones."""
    _ensure_loaded()
    try:
        return _SPECS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(sorted(_SPECS))}") from None


def list_specs(kind: str | None = None) -> list[ModelSpec]:
    """All registered methods, optionally only those of one kind, in registration order."""
    _ensure_loaded()
    return [s for s in _SPECS.values() if kind is None or s.kind == kind]


def shared_dir() -> Path:
    """The shared reference folder: $LLIE_SHARED_DIR, else ../shared beside the repository."""
    env = os.environ.get("LLIE_SHARED_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared"


def reference_weights_path(name: str, variant: str | None = None) -> Path:
    """Where a published checkpoint of a model lies in the shared folder: the default one, or a named variant."""
    spec = get_spec(name)
    if variant is not None:
        if variant not in spec.reference_variants:
            valid = ", ".join(f"reference:{v}" for v in spec.reference_variants) or "none"
            raise ValueError(f"model {name!r} has no reference variant {variant!r}; valid: {valid}")
        file = spec.reference_variants[variant].file
    elif spec.reference_weights is None:
        raise ValueError(f"model {name!r} has no reference checkpoint")
    else:
        file = spec.reference_weights
    return shared_dir() / "weights" / "reference" / file


def resolve_weights(name: str, weights: str | Path | None, suffix: str = ".pth") -> Path | None:
    """Path to load for ``weights``: None → the shipped default, "reference[:VARIANT]" → ../shared, else the path.

    Returns None only when ``weights`` is None and no default weights are shipped.
    """
    if weights is None:
        path = get_spec(name).default_weights(suffix)
        return path if path.is_file() else None
    text = str(weights)
    if text == "reference" or text.startswith("reference:"):
        path = reference_weights_path(name, text.partition(":")[2] or None)
        if not path.is_file():
            raise FileNotFoundError(f"reference checkpoint for {name!r} not found at {path} (set LLIE_SHARED_DIR)")
        return path
    return Path(weights)


def model_card(name: str) -> dict:
    """The shipped weights' model card (weights/NAME.yaml) as a dict; empty when there is none."""
    path = get_spec(name).default_weights(".yaml")
    if not path.is_file():
        return {}
    import yaml  # lazy: only networks with shipped weights have a card

    card = yaml.safe_load(path.read_text()) or {}
    if not isinstance(card, dict):
        raise ValueError(f"model card {path} is not a mapping")
    return card


def default_scale_factor(name: str, weights: str | Path | None = None) -> int:
    """The scale factor a network runs at unless told: the card's ``default_scale_factor`` for the shipped weights
    (``weights`` None) when it sets one, else the registry's (``ModelSpec.default_scale_factor``)."""
    spec = get_spec(name)
    if weights is None:
        value = model_card(name).get("default_scale_factor")
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                path = spec.default_weights(".yaml")
                raise ValueError(f"model card {path}: default_scale_factor must be an integer >= 1, got {value!r}")
            return value
    return spec.default_scale_factor


def default_max_estimation_side(name: str, weights: str | Path | None = None) -> int | None:
    """The longest side the estimator sees unless told: the card's ``max_estimation_side`` for the shipped weights
    (``weights`` None), else None (the scale factor alone decides)."""
    if weights is not None or not get_spec(name).is_network:
        return None
    value = model_card(name).get("max_estimation_side")
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        path = get_spec(name).default_weights(".yaml")
        raise ValueError(f"model card {path}: max_estimation_side must be an integer >= 1, got {value!r}")
    return value


def reference_variant_of(name: str, path: str | Path) -> ReferenceVariant | None:
    """The published variant a checkpoint file is (by its sha256, wherever it lies), or None."""
    variants = get_spec(name).reference_variants
    if not variants:
        return None
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return next((v for v in variants.values() if v.sha256 == digest), None)


register(
    ModelSpec(
        name="zero_dce",
        kind="curve",
        description="Zero-DCE (DCE-Net): 7 convs, 32 channels, 8 curve maps (Guo et al. 2020)",
        params=79_416,
        iterations=8,
        curve_maps=8,
        default_scale_factor=1,
        reference_weights="zero_dce_official.pth",
    )
)
register(
    ModelSpec(
        name="zero_dce_pp",
        kind="curve",
        description="Zero-DCE++: 7 depthwise-separable convs, one curve map, 8 iterations (Li et al. 2021)",
        params=10_561,
        iterations=8,
        curve_maps=1,
        default_scale_factor=12,
        reference_weights="zero_dce_pp_official.pth",
    )
)
register(
    ModelSpec(
        name="sgz",
        kind="curve",
        description="SGZ: Zero-DCE++'s network trained with a semantic (detector) focal loss (Zheng & Gupta 2022)",
        params=10_561,
        iterations=8,
        curve_maps=1,
        default_scale_factor=12,
        reference_weights="sgz.pth",
    )
)
register(
    ModelSpec(
        name="tiny_dce",
        kind="curve",
        description="TinyDCE: 3 depthwise-separable convs 3-4-4-3, one curve map, 4 iterations (distilled)",
        params=161,
        iterations=4,
        curve_maps=1,
        default_scale_factor=12,
        reference_weights="tiny_dce_student.pth",
    )
)

register(
    ModelSpec(
        name="noise_aware_dce",
        kind="denoise_curve",
        description="Noise-aware DCE: sees the noise sigma, blends towards cheap denoised guides, then LE curves "
        "(detection-aware training)",
        params=1_212,
        iterations=4,
        curve_maps=1,
        default_scale_factor=12,
    )
)

register(
    ModelSpec(
        name="iat",
        kind="iat",
        description="IAT: local multiply/add maps (conv blocks) + global colour matrix and gamma (Cui et al. 2022)",
        params=91_154,
        default_scale_factor=1,  # the published computation; no s > 1 stays ≥ 30 dB at every size (models/iat.py)
        reference_weights="iat_lol_v2.pth",
        reference_variants={
            "lol_v1": ReferenceVariant(
                "iat_lol_v1.pth", "6fb32236152283d3f3633ea1b79601c7e819efbf9d87d6b4767e1db0f1f3435b", "unit"
            ),
            "lol_v2": ReferenceVariant(
                "iat_lol_v2.pth", "9564b7e10882e688ac817ae6fd164544d05b9f74232de56c33ed7f9dabf7bdc4", "signed"
            ),
            "exposure": ReferenceVariant(
                "iat_exposure.pth", "15a9494582f028bef996d4af7145860eaa5d67799d2b0625ed93ff8c546ea3ee", "signed"
            ),
        },
        input_range="signed",
    )
)
register(
    ModelSpec(
        name="iat_student",
        kind="iat",
        description=(
            "IAT student, llie's own (27,361 params): shared conv, BatchNorm residual blocks, bounded colour matrix "
            "and gamma from a thumbnail global head, trained for the low-resolution estimate; `reference` is the "
            "published one (43,504 params, distilled from IAT)"
        ),
        params=27_361,
        # Weights by path and the published student: 1; the shipped weights' card sets theirs (8).
        default_scale_factor=1,
        reference_weights="iat_student.pth",
        reference_variants={
            "published": ReferenceVariant(
                "iat_student.pth", "b3c4cf7005cf92ce050f6de1b7437b0e1ce643a4477c1af05da111ac7be6bae3", "signed"
            ),
        },
        input_range="unit",
    )
)
register(
    ModelSpec(
        name="llpacknet",
        kind="raw",
        description="LLPackNet: RAW Bayer in, sRGB out; Pack to 1/16, dense residual blocks, UnPack (Lamba et al.)",
        params=1_169_088,
        default_scale_factor=1,  # the mosaic is binned by s before the network; 1 = the published computation
    )
)
register(
    ModelSpec(
        name="llpacknet_fast",
        kind="raw",
        description="LLPackNet, lighter topology (3-layer dense blocks, a 2-layer fine block): 1080p Bayer in "
        "<= 60 ms on one CPU thread; distilled from llpacknet",
        params=503_488,
        default_scale_factor=1,
    )
)


def _ensure_loaded() -> None:
    # Classical methods register themselves when their package is imported.
    from llie_core import classical  # noqa: F401
