"""The Enhancer interface: one frame or a batch, in the camera's own layout and dtype."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np

from llie_core.frames import check_frame, from_rgb, to_rgb


class Enhancer(ABC):
    """Enhances camera frames (H×W×3 BGR/RGB or H×W mono, uint8 or uint16) into the same layout."""

    name: str
    kind: str
    backend: str
    takes_raw: bool = False  # True: frames are RAW mosaics (bayer.RawFrame), the output an sRGB frame

    def enhance(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        """Enhance one frame; the result has the frame's shape, channel order and dtype."""
        check_frame(frame)
        return from_rgb(self._enhance_rgb(to_rgb(frame, rgb)), frame, rgb)

    def enhance_batch(self, frames: Iterable[np.ndarray], rgb: bool = False) -> list[np.ndarray]:
        """Enhance several frames (any sizes); a bad frame raises naming its index."""
        out = []
        for i, frame in enumerate(frames):
            check_frame(frame, name=f"frame {i}")
            out.append(self.enhance(frame, rgb))
        return out

    @abstractmethod
    def _enhance_rgb(self, image: np.ndarray) -> np.ndarray:
        """H×W×3 RGB uint8/uint16 → same shape and dtype."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, backend={self.backend!r})"
