"""Classical methods behind the Enhancer interface (numpy backend)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from llie_core.engine.base import Enhancer
from llie_core.frames import check_frame
from llie_core.registry import ModelSpec


class ClassicalEnhancer(Enhancer):
    """Runs a classical method function ``fn(rgb, **params)`` on every frame."""

    kind = "classical"
    backend = "numpy"

    def __init__(self, spec: ModelSpec, fn: Callable[..., np.ndarray], **params) -> None:
        unknown = set(params) - set(spec.options)
        if unknown:
            raise TypeError(f"unknown options for {spec.name!r}: {sorted(unknown)}; valid: {sorted(spec.options)}")
        self.name = spec.name
        self.params = {**spec.options, **params}
        self._fn = fn

    def enhance(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        """Enhance one frame; methods with a BGR variant (``fn.on_bgr``) skip the BGR→RGB round trip."""
        on_bgr = getattr(self._fn, "on_bgr", None)
        if on_bgr is not None and not rgb and isinstance(frame, np.ndarray) and frame.ndim == 3:
            check_frame(frame)
            return on_bgr(frame, **self.params)
        return super().enhance(frame, rgb)

    def _enhance_rgb(self, image: np.ndarray) -> np.ndarray:
        return self._fn(image, **self.params)
