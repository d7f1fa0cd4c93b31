"""Frame metrics the bag evaluation needs beyond llie_core.metrics: RMS contrast, luma series, flicker, box matching."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from llie_core import metrics


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


def flicker(luma: Sequence[float]) -> float:
    """Mean absolute frame-to-frame change of mean luminance (0 for a steady or single-frame sequence)."""
    values = np.asarray(luma, dtype=np.float64)
    return float(np.abs(np.diff(values)).mean()) if values.size > 1 else 0.0


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
