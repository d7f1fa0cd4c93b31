"""Synthetic RAW benchmark: held-out clean images made into dark RAW frames, restored, compared with the clean image.

Frames: each image of a held-out set (default: highway_dev's evaluation part, never trained on) is auto-exposed
(``amplification.auto_expose``: the reference frame, what an auto-exposing camera with enough light gives),
unprocessed through its own seeded random camera (``evaluation_camera``: Brooks et al.'s white balance and
colour matrix at their mean exposure gain, since one robot camera renders with one gain) and sensed as a RAW
mosaic at each regime of ``RAW_REGIMES`` (light ÷100 and ÷300; shot and read noise of a 14-bit sensor with
16,000 e⁻ at full scale and 3 e⁻ read noise, SID-like levels: a mid-grey site collects 29 and 10 electrons).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from llie_core.detect_eval import load_dataset, read_bgr
from llie_core.noise import NoiseRegime, Processing, random_processing

RAW_REGIMES = {
    "raw100": NoiseRegime("raw100", 100.0, full_well=16000.0, read_sigma=3.0, bit_depth=14),
    "raw300": NoiseRegime("raw300", 300.0, full_well=16000.0, read_sigma=3.0, bit_depth=14),
}


def held_out_images(root: str | Path, max_images: int | None = None) -> list[Path]:
    """The evaluation part of a labelled detection folder (``detect_eval.split_names``), or every image of a folder."""
    return [item.path for item in load_dataset(root, part="eval", max_images=max_images).images]


def read_rgb(path: Path) -> np.ndarray:
    """An image file as H×W×3 RGB uint8."""
    return np.ascontiguousarray(read_bgr(path)[:, :, ::-1])


# Brooks et al.'s exposure gain 1/N(0.8, 0.1) is a spread of rendering gains across cameras; one camera has one.
EXPOSURE_GAIN = 1.25


def evaluation_camera(rng: np.random.Generator) -> Processing:
    """A random camera (``noise.random_processing``: white balance, colour matrix, tone curve) at EXPOSURE_GAIN."""
    camera = random_processing(rng)
    exposure = camera.gains[1]
    return replace(camera, gains=tuple(g / exposure * EXPOSURE_GAIN for g in camera.gains))
