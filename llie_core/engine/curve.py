"""Curve models behind the Enhancer interface: estimate at low resolution, apply at full resolution."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from llie_core.curves import apply_le_curves, estimation_size
from llie_core.engine.base import Enhancer
from llie_core.frames import check_frame, from_float, from_rgb, to_float, to_rgb
from llie_core.registry import ModelSpec
from llie_core.resize import resize_bilinear

# h×w×3 float32 RGB in [0, 1] at estimation resolution → h×w×C curve maps in [-1, 1]
Estimator = Callable[[np.ndarray], np.ndarray]


class CurveEnhancer(Enhancer):
    """A Zero-DCE-family model: the estimator runs on the downscaled frame, curves are applied in numpy."""

    kind = "curve"

    def __init__(self, spec: ModelSpec, estimator: Estimator, backend: str, scale_factor: int) -> None:
        if not isinstance(scale_factor, int) or isinstance(scale_factor, bool) or scale_factor < 1:
            raise ValueError(f"scale_factor must be an integer >= 1, got {scale_factor!r}")
        self.name = spec.name
        self.spec = spec
        self.backend = backend
        self.scale_factor = scale_factor
        self._estimator = estimator

    def estimate_curves(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        """Curve maps of a frame at estimation resolution: h×w×C float32 in [-1, 1]."""
        check_frame(frame)
        return self._estimate(to_float(to_rgb(frame, rgb)))

    def apply_curves(self, frame: np.ndarray, curves: np.ndarray, rgb: bool = False) -> np.ndarray:
        """Apply curve maps (any resolution; upsampled to the frame's) to a frame, in its layout and dtype."""
        check_frame(frame)
        if curves.ndim != 3 or curves.shape[2] != self.spec.curve_channels:
            raise ValueError(f"curves have shape {curves.shape}; {self.name} needs h×w×{self.spec.curve_channels}")
        image = to_rgb(frame, rgb)
        return from_rgb(self._apply(to_float(image), curves, image.dtype), frame, rgb)

    def _estimate(self, image: np.ndarray) -> np.ndarray:
        size = estimation_size(*image.shape[:2], self.scale_factor)
        low = image if size == image.shape[:2] else resize_bilinear(image, size, align_corners=False)
        return self._estimator(low)

    def _apply(self, image: np.ndarray, curves: np.ndarray, dtype: np.dtype) -> np.ndarray:
        if curves.shape[:2] != image.shape[:2]:
            curves = resize_bilinear(curves, image.shape[:2], align_corners=True)
        return from_float(apply_le_curves(image, curves, self.spec.iterations), dtype)

    def _enhance_rgb(self, image: np.ndarray) -> np.ndarray:
        x = to_float(image)
        return self._apply(x, self._estimate(x), image.dtype)
