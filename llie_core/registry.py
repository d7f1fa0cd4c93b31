"""One table of every enhancement method llie knows, readable without torch."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows of one method: enough to list it and to build it lazily."""

    name: str
    kind: str  # "curve" (a DCE-family network) or "classical"
    description: str
    params: int = 0
    iterations: int = 0
    curve_maps: int = 0  # 1: one map reused every iteration; n: one map per iteration
    default_scale_factor: int = 1
    reference_weights: str | None = None  # file name in ../shared/weights/reference
    options: dict = field(default_factory=dict)

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


def reference_weights_path(name: str) -> Path:
    """Where the published checkpoint of a model lies in the shared folder (error if it has none)."""
    spec = get_spec(name)
    if spec.reference_weights is None:
        raise ValueError(f"model {name!r} has no reference checkpoint")
    return shared_dir() / "weights" / "reference" / spec.reference_weights


def resolve_weights(name: str, weights: str | Path | None, suffix: str = ".pth") -> Path | None:
    """Path to load for ``weights``: None → the shipped default, "reference" → ../shared, else the path.

    Returns None only when ``weights`` is None and no default weights are shipped.
    """
    if weights is None:
        path = get_spec(name).default_weights(suffix)
        return path if path.is_file() else None
    if str(weights) == "reference":
        path = reference_weights_path(name)
        if not path.is_file():
            raise FileNotFoundError(f"reference checkpoint for {name!r} not found at {path} (set LLIE_SHARED_DIR)")
        return path
    return Path(weights)


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


def _ensure_loaded() -> None:
    # Classical methods register themselves when their package is imported.
    from llie_core import classical  # noqa: F401
