"""The RAW family behind the Enhancer interface: a RAW Bayer frame in, an sRGB frame out (LLPackNet).

How it fits the engine: every network is a backend-run graph at low resolution plus its family's compiled
full-resolution passes. For the RAW family the graph is the network between LLPackNet's two packings (256×h×w
packed RAW at 1/16 of the mosaic → 192×2h×2w sRGB sub-pixels at 1/8), exported and run by the same backends as
every other network (``OrtEstimator``, ``TorchEstimator``: ``run_packed``); the family's passes are the Pack of
the integer mosaic (``raw_kernels.pack``: any Bayer pattern, black/white level, amplification, binning by the
scale factor) and the UnPack into the frame (``raw_kernels.unpack``). Its input is a ``bayer.RawFrame`` instead
of an H×W×3 frame, which is all the callers see (``takes_raw``).

What a stream smooths between frames (the ``estimate`` / ``apply`` split of ``llie_core.stream``) is the
amplification: the per-frame global state, whose jitter is the flicker. Averaging the network's outputs, as the
other families' maps are averaged, would blend moving objects across frames.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np

from llie_core.amplification import MAX_AMPLIFICATION, estimate_amplification
from llie_core.bayer import RawFrame
from llie_core.curves import check_scale_factor
from llie_core.engine.base import Enhancer
from llie_core.raw_kernels import pack, unpack
from llie_core.registry import ModelSpec


class PackedNetwork(Protocol):
    """A backend's RAW network: 256×h×w float32 packed RAW → 192×2h×2w sRGB sub-pixels.

    The sub-pixels are float32 in [0, 1], or uint8 codes that are the 8-bit values (the int8 graph's output).
    """

    def run_packed(self, packed: np.ndarray) -> np.ndarray:
        """The network's output for one packed frame."""


def check_amplification(value: float | None) -> float | None:
    """An explicit amplification as a float in [1, MAX_AMPLIFICATION], None for the per-frame estimate."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1.0 <= value <= MAX_AMPLIFICATION:
        raise ValueError(
            f"amplification must be a number in [1, {MAX_AMPLIFICATION:g}] (or None: estimated), got {value!r}"
        )
    return float(value)


class RawEnhancer(Enhancer):
    """A RAW network: pack the mosaic (amplified), run the network, unpack into an H×W×3 uint8 sRGB frame."""

    kind = "network"
    takes_raw = True

    def __init__(
        self,
        spec: ModelSpec,
        network: PackedNetwork,
        backend: str,
        scale_factor: int,
        amplification: float | None = None,
    ) -> None:
        self.name = spec.name
        self.spec = spec
        self.backend = backend
        self.scale_factor = check_scale_factor(scale_factor)
        self.amplification = check_amplification(amplification)
        self._network = network

    def scale_factor_for(self, height: int, width: int) -> int:
        """The binning of an H×W mosaic before the network: the scale factor, at every size."""
        return self.scale_factor

    def enhance(self, frame: RawFrame, rgb: bool = False) -> np.ndarray:
        """The sRGB frame of a RAW frame: H×W×3 uint8, BGR (RGB with ``rgb``)."""
        return self.apply(frame, self.estimate(frame), rgb)

    def estimate(self, frame: RawFrame, rgb: bool = False) -> float:
        """The frame's amplification: the explicit one if set, else metered on the frame (``amplification``)."""
        self._check(frame)
        return self.amplification if self.amplification is not None else estimate_amplification(frame)

    def apply(self, frame: RawFrame, estimate: float, rgb: bool = False) -> np.ndarray:
        """The frame restored with an amplification (from ``estimate``, or an average over frames)."""
        self._check(frame)
        packed, geometry = pack(frame, float(estimate), self.scale_factor)
        return unpack(self._network.run_packed(packed), geometry, bgr=not rgb)

    def enhance_batch(self, frames: Iterable[RawFrame], rgb: bool = False) -> list[np.ndarray]:
        """Restore several RAW frames (any sizes); a bad frame raises naming its index."""
        out = []
        for i, frame in enumerate(frames):
            self._check(frame, f"frame {i}")
            out.append(self.enhance(frame, rgb))
        return out

    def _check(self, frame: object, name: str = "the frame") -> None:
        if not isinstance(frame, RawFrame):
            got = f"an array of shape {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
            raise TypeError(
                f"{self.name} takes RAW Bayer frames (llie_core.bayer.RawFrame: mosaic, pattern, black and white "
                f"level); {name} is {got}"
            )

    def _enhance_rgb(self, image: np.ndarray) -> np.ndarray:
        raise TypeError(f"{self.name} takes RAW Bayer frames, not RGB images")
