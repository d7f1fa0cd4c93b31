"""Frame metrics the bag evaluation needs beyond llie_core.metrics: RMS contrast, flicker, box matching.

Flicker is the relative frame-to-frame change of mean luminance, |L_t − L_{t−1}| / L, with L the mean of the two
frames' luminance (a change of 0.01 is 10% on a frame at 0.1, 1% on one at 1.0: what the eye and a detector's
normalisation see). Global flicker uses each frame's mean; local flicker the same on a grid of regions, averaged
over the cells, so a change that brightens one region while another darkens is not cancelled out.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from llie_core import metrics
from llie_core.frames import max_value

# Luminances below one 8-bit grey level count as one grey level in the denominator, so black regions do not turn
# sensor noise into huge relative changes.
MIN_LUMINANCE = 1.0 / 255.0
GRID = 4


def as_rgb(bgr: np.ndarray) -> np.ndarray:
    """An H×W×3 RGB uint8 view for llie_core.metrics (mono frames are repeated to three channels)."""
    if bgr.ndim == 2:
        return np.repeat(bgr[:, :, None], 3, axis=2)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def rms_contrast(rgb: np.ndarray) -> float:
    """RMS contrast: standard deviation of the grey level in [0, 1] (Peli 1990)."""
    return float(metrics.grey(rgb).std() / 255.0)


def frame_quality(rgb: np.ndarray) -> dict[str, float]:
    """Brightness, contrast, entropy and colourfulness of one RGB uint8 frame."""
    return {
        "brightness": metrics.brightness(rgb),
        "contrast": rms_contrast(rgb),
        "entropy": metrics.entropy(rgb),
        "colourfulness": metrics.colourfulness(rgb),
    }


def relative_changes(luma: Sequence[float] | np.ndarray) -> np.ndarray:
    """|ΔL| / L between consecutive frames (length n − 1, along the first axis), L the pair's mean luminance."""
    values = np.asarray(luma, dtype=np.float64)
    if values.shape[0] < 2:
        return np.zeros((0, *values.shape[1:]))
    level = np.maximum((values[1:] + values[:-1]) / 2, MIN_LUMINANCE)
    return np.abs(np.diff(values, axis=0)) / level


def flicker(luma: Sequence[float]) -> float:
    """Mean relative frame-to-frame change of mean luminance (0 for a steady or single-frame sequence)."""
    changes = relative_changes(luma)
    return float(changes.mean()) if changes.size else 0.0


def grid_luminance(frame: np.ndarray, encoding: str, grid: int = GRID) -> np.ndarray:
    """grid×grid mean Rec. 601 luminance in [0, 1] of the frame's regions (area-weighted where sizes do not divide)."""
    image = frame.astype(np.float32)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY if encoding == "rgb8" else cv2.COLOR_BGR2GRAY)
    cells = cv2.resize(image, (grid, grid), interpolation=cv2.INTER_AREA)
    return cells.astype(np.float64) / max_value(frame.dtype)


def local_relative_changes(grids: Sequence[np.ndarray]) -> np.ndarray:
    """Per frame pair, the relative luminance change of each region averaged over the regions (length n − 1)."""
    changes = relative_changes(np.asarray(grids, dtype=np.float64))
    return changes.reshape(len(changes), int(np.prod(changes.shape[1:]))).mean(axis=1)


def local_flicker(grids: Sequence[np.ndarray]) -> float:
    """Mean over frame pairs and regions of the relative luminance change (0 for fewer than two frames)."""
    changes = local_relative_changes(grids)
    return float(changes.mean()) if changes.size else 0.0


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def match_count(first: Sequence, second: Sequence, threshold: float = 0.5) -> int:
    """Objects of one frame found in both lists: one-to-one, same class, IoU >= threshold, best IoU first."""
    pairs = []
    for i, a in enumerate(first):
        for j, b in enumerate(second):
            if a.class_id == b.class_id:
                value = iou((a.x1, a.y1, a.x2, a.y2), (b.x1, b.y1, b.x2, b.y2))
                if value >= threshold:
                    pairs.append((value, i, j))
    used_i, used_j, count = set(), set(), 0
    for _, i, j in sorted(pairs, reverse=True):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            count += 1
    return count
