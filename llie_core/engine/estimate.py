"""What a network estimates from a frame at low resolution, and how each model family applies it at full resolution.

Every network splits enhancement in two: an estimator (onnxruntime or torch) looks at the downscaled frame and
returns an ``Estimate``: per-pixel maps at that low resolution plus, for some families, global parameters; an
applier then enhances the full-resolution integer frame with it in one compiled pass (``llie_core.kernels``).
The Zero-DCE family estimates curve maps (no globals); the noise-aware DCE curve maps and blend weights, from the
frame and its noise sigma (``estimator_input`` adds it as a fourth channel; the Estimate carries it to the applier,
so that it is computed once per frame); the IAT family estimates multiply/add maps and [gamma, colour matrix].
Temporal smoothing (``llie_core.stream``) averages estimates between frames.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from llie_core.classical.denoise import noise_sigma
from llie_core.kernels import (
    DENOISE_MAPS,
    MAPS,
    SMOOTHED_MAPS,
    apply_curves_fast,
    apply_denoise_curves_fast,
    apply_maps_fast,
)
from llie_core.registry import ModelSpec


@dataclass(frozen=True, eq=False)  # arrays: compared by identity (== on arrays has no single truth value)
class Estimate:
    """A network's estimate for one frame: ``maps`` h×w×C float32 (RGB order, estimation resolution),
    ``globals`` (G,) float32 per-frame parameters (empty for curve models) and, for the noise-aware family, the
    ``noise_sigma`` of the frame it was estimated from (8-bit codes; None: the applier computes the frame's own)."""

    maps: np.ndarray
    globals: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    # a property of the frame, not an estimate: temporal smoothing keeps the current frame's ("per_frame", see
    # stream.temporal) and averages the rest
    noise_sigma: float | None = field(default=None, metadata={"per_frame": True})


class Estimator(Protocol):
    """A backend's network: its input at estimation resolution (h×w×3 float32 RGB in [0, 1], with more channels for
    families whose ``estimator_input`` adds them) → its Estimate."""

    def __call__(self, image: np.ndarray) -> Estimate:
        """The estimate for one image."""


class _Family:
    """What every family shares: by default the estimator sees the downscaled frame alone."""

    def estimator_input(self, frame: np.ndarray, low: np.ndarray, bgr: bool) -> tuple[np.ndarray, float | None]:
        """The estimator's input for a frame and its h×w×3 RGB downscale ``low`` (``low`` itself), and the frame's
        noise sigma where the family uses one (None)."""
        return low, None

    def map_counts(self) -> tuple[int, ...]:
        """The map channel counts an estimate of this family may have."""
        return (self.map_channels,)


@dataclass(frozen=True)
class CurveApplier(_Family):
    """Zero-DCE family: LE curves x + a·(x² − x), ``iterations`` times (one map reused, or one per iteration)."""

    iterations: int
    map_channels: int
    globals_size: int = 0

    def __call__(self, frame: np.ndarray, estimate: Estimate, bgr: bool) -> np.ndarray:
        """H×W×3 integer frame (BGR if ``bgr``) enhanced with the estimate, same layout."""
        return apply_curves_fast(frame, estimate.maps, self.iterations, bgr=bgr)


@dataclass(frozen=True)
class DenoiseCurveApplier(_Family):
    """Noise-aware DCE: blend towards the frame's denoise guide by w, then LE curves with a (maps [a RGB, w])."""

    iterations: int
    map_channels: int = DENOISE_MAPS
    globals_size: int = 0

    def estimator_input(self, frame: np.ndarray, low: np.ndarray, bgr: bool) -> tuple[np.ndarray, float | None]:
        """h×w×4: the RGB downscale and the frame's noise sigma (8-bit codes) as a constant plane; that sigma."""
        sigma = frame_noise_sigma(frame, bgr)
        plane = np.full((*low.shape[:2], 1), sigma, np.float32)
        return np.concatenate([low, plane], axis=2), sigma

    def __call__(self, frame: np.ndarray, estimate: Estimate, bgr: bool) -> np.ndarray:
        """H×W×3 integer frame (BGR if ``bgr``) enhanced with the estimate (and its noise sigma, else the frame's)."""
        sigma = frame_noise_sigma(frame, bgr) if estimate.noise_sigma is None else estimate.noise_sigma
        return apply_denoise_curves_fast(frame, estimate.maps, self.iterations, sigma, bgr=bgr)


def frame_noise_sigma(frame: np.ndarray, bgr: bool) -> float:
    """The noise sigma the noise-aware estimator sees: Immerkær's estimate, 0 for frames under 3×3."""
    return noise_sigma(frame, bgr=bgr) if min(frame.shape[:2]) >= 3 else 0.0


@dataclass(frozen=True)
class MapsApplier(_Family):
    """IAT family: clamp(M·(x̃·mul + add), 1e-8, 1)^gamma with maps [mul RGB, add RGB] (x̃ = x) or [mul RGB, add RGB,
    β RGB] (x̃ = x pre-smoothed by β, llie's student) and globals [gamma, M]."""

    map_channels: int = MAPS
    globals_size: int = 10
    smoothed_channels: int = SMOOTHED_MAPS

    def map_counts(self) -> tuple[int, ...]:
        """6 maps, or 9 with the pre-smoothing weights."""
        return (self.map_channels, self.smoothed_channels)

    def __call__(self, frame: np.ndarray, estimate: Estimate, bgr: bool) -> np.ndarray:
        """H×W×3 integer frame (BGR if ``bgr``) enhanced with the estimate, same layout."""
        return apply_maps_fast(frame, estimate.maps, estimate.globals, bgr=bgr)


Applier = CurveApplier | DenoiseCurveApplier | MapsApplier


def applier_for(spec: ModelSpec) -> Applier:
    """The applier of a network's family (by ``spec.kind``)."""
    if spec.kind == "curve":
        return CurveApplier(spec.iterations, spec.curve_channels)
    if spec.kind == "denoise_curve":
        return DenoiseCurveApplier(spec.iterations)
    if spec.kind == "iat":
        return MapsApplier()
    raise ValueError(f"{spec.name!r} is a {spec.kind} method, not a network (curve, denoise_curve or iat)")


def check_estimate(estimate: Estimate, applier: Applier, name: str) -> Estimate:
    """The estimate as float32 arrays, or a ValueError naming what does not fit the model ``name``."""
    if not isinstance(estimate, Estimate):
        raise TypeError(f"expected an Estimate for {name}, got {type(estimate).__name__}")
    maps = np.asarray(estimate.maps, dtype=np.float32)
    params = np.asarray(estimate.globals, dtype=np.float32)
    if maps.ndim != 3 or maps.shape[2] not in applier.map_counts() or min(maps.shape[:2]) < 1:
        needs = " or ".join(f"h×w×{c}" for c in applier.map_counts())
        raise ValueError(f"estimate maps have shape {maps.shape}; {name} needs {needs}")
    if params.shape != (applier.globals_size,):
        raise ValueError(f"estimate globals have shape {params.shape}; {name} needs ({applier.globals_size},)")
    sigma = estimate.noise_sigma
    if sigma is not None:
        if not isinstance(sigma, numbers.Real) or isinstance(sigma, bool) or not 0 <= sigma < math.inf:
            raise ValueError(f"estimate noise_sigma is {sigma!r}; {name} needs a number >= 0 (8-bit codes) or None")
        sigma = float(sigma)
    return Estimate(maps, params, sigma)
