"""Classical low-light enhancement (the SGZ comparison set) as pure numpy/OpenCV functions.

Every method is `fn(image, **params) -> image` on H×W×3 RGB uint8 or uint16 and returns the same shape
and dtype. Importing this package registers one `kind="classical"` ModelSpec per method, whose
`options` are the method's default parameters.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from llie_core.classical.denoise import DENOISERS, adaptive_denoise, bilateral, gaussian_blur
from llie_core.classical.exposure import exposure_correction
from llie_core.classical.gamma_correction import adaptive_gamma, gamma
from llie_core.classical.histogram import clahe, he
from llie_core.classical.illumination import lime
from llie_core.classical.retinex import msr, ssr
from llie_core.registry import ModelSpec, register

CLASSICAL_METHODS: dict[str, Callable[..., np.ndarray]] = {
    "he": he,
    "clahe": clahe,
    "gamma": gamma,
    "adaptive_gamma": adaptive_gamma,
    "ssr": ssr,
    "msr": msr,
    "lime": lime,
    "exposure_correction": exposure_correction,
    "gaussian_blur": gaussian_blur,
    "bilateral": bilateral,
    "adaptive_denoise": adaptive_denoise,
}

_DESCRIPTIONS = {
    "he": "Histogram equalisation of luma (Rec.601 Y), hue kept",
    "clahe": "Contrast-limited adaptive histogram equalisation of luma (OpenCV's CLAHE on Rec.601 Y), hue kept",
    "gamma": "Fixed power-law curve out = (x/max)^gamma per channel, via lookup table",
    "adaptive_gamma": "Gamma chosen so mean luminance maps to a target (gamma = ln target / ln mean)",
    "ssr": "Single-scale Retinex: log image minus log Gaussian surround, percentile-stretched",
    "msr": "Multi-scale Retinex: SSR averaged over several surround scales, percentile-stretched",
    "lime": "LIME: max-RGB illumination, structure-aware refinement (CG on a shrunk map), gamma, divide",
    "exposure_correction": "Automatic exposure: gain with a highlight shoulder, solved so mean luminance hits a target",
    "gaussian_blur": "Denoiser: Gaussian blur (5×5 by default), no brightening; chain before an enhancer",
    "bilateral": "Denoiser: edge-preserving bilateral filter (OpenCV), no brightening; chain before an enhancer",
    "adaptive_denoise": "Chroma and luma denoising set by a per-frame noise estimate; mild gamma on low-noise frames",
}


def default_options(method: Callable[..., np.ndarray]) -> dict:
    """The keyword parameters of a method with their defaults (everything after the image)."""
    parameters = list(inspect.signature(method).parameters.values())[1:]
    return {p.name: p.default for p in parameters}


for _name, _method in CLASSICAL_METHODS.items():
    register(
        ModelSpec(name=_name, kind="classical", description=_DESCRIPTIONS[_name], options=default_options(_method))
    )

__all__ = ["CLASSICAL_METHODS", "DENOISERS", "default_options", *CLASSICAL_METHODS]
