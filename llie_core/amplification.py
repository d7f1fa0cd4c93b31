"""How much a dark RAW frame must be amplified: metering on the mosaic's green sites, as a camera's auto-exposure.

LLPackNet's official inference multiplies the input by the ground-truth exposure ratio, which a robot never has;
the paper estimates it from the input's histogram. Here the green sites are averaged in 8×8-site cells (16×16
pixels: the noise of a cell mean is 1/11 of a site's, so the statistic holds at SID light levels), the histogram of
the cells is winsorised at its 99th percentile (lamps and sky do not set the exposure of the rest), and the
amplification is ``GREEN_TARGET`` over the cells' mean, clipped to [1, MAX_AMPLIFICATION].

The amplification a frame needs is only defined against a reference exposure. The one used here is that of an
auto-exposed camera: a reference frame whose mean linear luminance is ``METER_TARGET`` (``auto_expose``).
``GREEN_TARGET`` is the green-cell mean that such references give through the cameras of the synthetic RAW
benchmark (``raw_eval.evaluation_camera``: random white balance and colour matrix, one rendering gain), calibrated
on road scenes: the median over the 350 images of highway_dev's training part is 0.0990, 5-95% 0.089-0.111
(``benchmarks/raw_amplification.py --calibrate-on road``). The level depends on the scenes' content (their colour
and how their light is spread), and the metering serves robots on roads, so the constant is the road one; SICE
part 1 (the network's training images, 300 of them) gives 0.1061, 5-95% 0.092-0.115: 7% above the road level, so
it over-amplifies road frames by about as much. The 150 held-out highway_dev images were never used to choose
it. With Brooks et al.'s random rendering gain per image as well, SICE's spread is 0.079-0.130: a gain that only
the camera's processing knows cannot be metered on the RAW frame.
"""

from __future__ import annotations

import numpy as np

from llie_core.bayer import RawFrame, check_pattern
from llie_core.frames import LUMA_WEIGHTS

METER_TARGET = 0.12  # mean linear luminance of an auto-exposed reference frame (typical of well-exposed photos)
GREEN_TARGET = 0.099  # the winsorised green-cell mean of such a reference's RAW frame (road-calibrated: docstring)
MAX_AMPLIFICATION = 1000.0
CELL = 8  # green sites per cell side
WINSOR = 99.0  # percentile at which the cell histogram is clipped


def green_cells(raw: RawFrame) -> np.ndarray:
    """The two green sites of each Bayer tile averaged over CELL×CELL tiles: h×w float32, black 0, white 1."""
    tile = check_pattern(raw.pattern)
    greens = [raw.data[r::2, c::2] for r in range(2) for c in range(2) if tile[r][c] == 1]
    height, width = min(g.shape[0] for g in greens), min(g.shape[1] for g in greens)
    rows, cols = max(1, height // CELL), max(1, width // CELL)
    cell_h, cell_w = min(CELL, height), min(CELL, width)
    total = sum(g[: rows * cell_h, : cols * cell_w].astype(np.float32) for g in greens)
    cells = total.reshape(rows, cell_h, cols, cell_w).mean(axis=(1, 3)) / np.float32(len(greens))
    return (cells - np.float32(raw.black_level)) / np.float32(raw.white_level - raw.black_level)


def metered_level(raw: RawFrame) -> float:
    """The frame's exposure statistic: the mean of its green cells, winsorised at the WINSOR-th percentile."""
    cells = green_cells(raw)
    return float(np.minimum(cells, np.percentile(cells, WINSOR)).mean())


def estimate_amplification(raw: RawFrame) -> float:
    """The digital gain that brings a RAW frame to the auto-exposed reference's level, in [1, MAX_AMPLIFICATION]."""
    level = metered_level(raw)
    if not level > GREEN_TARGET / MAX_AMPLIFICATION:
        return MAX_AMPLIFICATION  # black (or below black on average): as much as the model takes
    return float(np.clip(GREEN_TARGET / level, 1.0, MAX_AMPLIFICATION))


def auto_expose(rgb: np.ndarray, target: float = METER_TARGET) -> np.ndarray:
    """An H×W×3 RGB uint8 image re-exposed in linear light so its mean luminance is ``target`` (clipped, uint8)."""
    from llie_core.noise import linear_to_srgb, srgb_to_linear

    linear = srgb_to_linear(rgb / 255.0)
    mean = float((linear @ np.asarray(LUMA_WEIGHTS)).mean())
    gain = target / max(mean, 1e-6)
    return np.clip(np.rint(linear_to_srgb(linear * gain) * 255.0), 0, 255).astype(np.uint8)
