"""Curve models behind the Enhancer interface: estimate at low resolution, apply at full resolution."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from llie_core.curves import estimation_size
from llie_core.engine.base import Enhancer
from llie_core.frames import check_frame, from_rgb, to_rgb
from llie_core.kernels import apply_curves_fast, downscale_normalised
from llie_core.registry import ModelSpec

# h×w×3 float32 RGB in [0, 1] at estimation resolution → h×w×C curve maps in [-1, 1]
Estimator = Callable[[np.ndarray], np.ndarray]


class CurveEnhancer(Enhancer):
    """A Zero-DCE-family model: the estimator runs on the downscaled frame; curves are applied by the fast path.

    Colour frames are processed in their own channel order (BGR or RGB) without conversion copies;
    mono frames are replicated to three channels and averaged back.
    """

    kind = "curve"

    def __init__(self, spec: ModelSpec, estimator: Estimator, backend: str, scale_factor: int) -> None:
        if not isinstance(scale_factor, int) or isinstance(scale_factor, bool) or scale_factor < 1:
            raise ValueError(f"scale_factor must be an integer >= 1, got {scale_factor!r}")
        self.name = spec.name
        self.spec = spec
        self.backend = backend
        self.scale_factor = scale_factor
        self._estimator = estimator

    def enhance(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        """Enhance one frame; the result has the frame's shape, channel order and dtype."""
        check_frame(frame)
        if frame.ndim == 2:
            return super().enhance(frame, rgb)
        return apply_curves_fast(frame, self._estimate(frame, rgb), self.spec.iterations, bgr=not rgb)

    def estimate_curves(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        """Curve maps (RGB order) of a frame at estimation resolution: h×w×C float32 in [-1, 1]."""
        check_frame(frame)
        return self._estimate(frame if frame.ndim == 3 else to_rgb(frame), rgb or frame.ndim == 2)

    def apply_curves(self, frame: np.ndarray, curves: np.ndarray, rgb: bool = False) -> np.ndarray:
        """Apply curve maps (RGB order, any resolution; upsampled to the frame's) to a frame, in its layout."""
        check_frame(frame)
        if curves.ndim != 3 or curves.shape[2] != self.spec.curve_channels:
            raise ValueError(f"curves have shape {curves.shape}; {self.name} needs h×w×{self.spec.curve_channels}")
        curves = np.asarray(curves, dtype=np.float32)
        if frame.ndim == 2:
            image = apply_curves_fast(to_rgb(frame), curves, self.spec.iterations, bgr=False)
            return from_rgb(image, frame)
        return apply_curves_fast(frame, curves, self.spec.iterations, bgr=not rgb)

    def _estimate(self, frame: np.ndarray, rgb: bool) -> np.ndarray:
        """H×W×3 integer frame → curve maps at estimation resolution."""
        size = estimation_size(*frame.shape[:2], self.scale_factor)
        return self._estimator(downscale_normalised(frame, size, reverse=not rgb))

    def _enhance_rgb(self, image: np.ndarray) -> np.ndarray:
        return apply_curves_fast(image, self._estimate(image, rgb=True), self.spec.iterations, bgr=False)
