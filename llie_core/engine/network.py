"""Networks behind the Enhancer interface: estimate at low resolution, apply at full resolution.

One class for every network family: the estimator (a backend) returns an ``Estimate`` for the downscaled
frame and the family's applier (``estimate.applier_for``) enhances the full-resolution frame with it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from llie_core.curves import check_scale_factor, estimation_size, frame_scale_factor
from llie_core.engine.base import Enhancer
from llie_core.engine.estimate import Estimate, Estimator, applier_for, check_estimate
from llie_core.frames import check_frame, from_rgb, to_rgb
from llie_core.kernels import downscale_normalised
from llie_core.registry import ModelSpec


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


class NetworkEnhancer(Enhancer):
    """A network: the estimator runs on the frame downscaled by ``scale_factor`` (raised per frame so that the
    estimate's longer side stays within ``max_estimation_side`` when set); its family's applier does the rest.

    Colour frames are processed in their own channel order (BGR or RGB) without conversion copies;
    mono frames are replicated to three channels and averaged back. ``estimate`` and ``apply`` expose the
    split, so that callers (temporal smoothing) can work on the estimate between the two.
    """

    kind = "network"

    def __init__(
        self,
        spec: ModelSpec,
        estimator: Estimator,
        backend: str,
        scale_factor: int,
        max_estimation_side: int | None = None,
    ) -> None:
        if max_estimation_side is not None and not _positive_int(max_estimation_side):
            raise ValueError(f"max_estimation_side must be an integer >= 1 or None, got {max_estimation_side!r}")
        self.name = spec.name
        self.spec = spec
        self.backend = backend
        self.scale_factor = check_scale_factor(scale_factor)
        self.max_estimation_side = max_estimation_side
        self._estimator = estimator
        self._applier = applier_for(spec)

    def enhance(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        """Enhance one frame; the result has the frame's shape, channel order and dtype."""
        check_frame(frame)
        if frame.ndim == 2:
            return super().enhance(frame, rgb)
        return self._applier(frame, self._estimate(frame, rgb), bgr=not rgb)

    def estimate(self, frame: np.ndarray, rgb: bool = False) -> Estimate:
        """The network's estimate for a frame: maps (RGB order) at estimation resolution, and global parameters."""
        check_frame(frame)
        return self._estimate(frame if frame.ndim == 3 else to_rgb(frame), rgb or frame.ndim == 2)

    def apply(self, frame: np.ndarray, estimate: Estimate, rgb: bool = False) -> np.ndarray:
        """Enhance a frame with an estimate (maps at any resolution, upsampled to the frame), in the frame's layout."""
        check_frame(frame)
        estimate = check_estimate(estimate, self._applier, self.name)
        if frame.ndim == 2:
            return from_rgb(self._applier(to_rgb(frame), estimate, bgr=False), frame)
        return self._applier(frame, estimate, bgr=not rgb)

    def scale_factor_for(self, height: int, width: int) -> int:
        """The scale factor an H×W frame is estimated at."""
        return frame_scale_factor(height, width, self.scale_factor, self.max_estimation_side)

    def _estimate(self, frame: np.ndarray, rgb: bool) -> Estimate:
        """H×W×3 integer frame → the estimator's estimate at estimation resolution."""
        size = estimation_size(*frame.shape[:2], self.scale_factor_for(*frame.shape[:2]))
        low = downscale_normalised(frame, size, reverse=not rgb)
        image, sigma = self._applier.estimator_input(frame, low, bgr=not rgb)
        estimate = self._estimator(image)
        return estimate if sigma is None else dataclasses.replace(estimate, noise_sigma=sigma)

    def _enhance_rgb(self, image: np.ndarray) -> np.ndarray:
        return self._applier(image, self._estimate(image, rgb=True), bgr=False)
