"""Generated night scenes, for the demo and tests when no real footage is at hand."""

from __future__ import annotations

import cv2
import numpy as np


def night_scene(height: int = 360, width: int = 640, seed: int = 0, exposure: float = 0.18) -> np.ndarray:
    """A dark H×W×3 BGR uint8 street scene: sky, road, cars with lit lamps, sensor noise.

    ``exposure`` scales the light (0.18 ≈ a night frame; 1.0 ≈ day); ``seed`` moves the cars.
    """
    rng = np.random.default_rng(seed)
    rows = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    sky = (1 - rows) * np.array([0.55, 0.45, 0.35], np.float32) + rows * np.array([0.3, 0.3, 0.3], np.float32)
    scene = np.broadcast_to(sky, (height, width, 3)).copy()
    horizon = int(height * 0.55)
    scene[horizon:] = np.array([0.35, 0.36, 0.38], np.float32)
    cv2.line(scene, (width // 2, horizon), (width // 2, height), (0.9, 0.9, 0.9), max(1, width // 160))
    for _ in range(4):
        w = int(rng.integers(width // 10, width // 5))
        h = w // 2
        x = int(rng.integers(0, width - w))
        y = int(rng.integers(horizon - h // 2, height - h))
        colour = tuple(float(c) for c in rng.uniform(0.2, 0.8, 3))
        cv2.rectangle(scene, (x, y), (x + w, y + h), colour, -1)
        for lamp in (x + w // 6, x + 5 * w // 6):
            cv2.circle(scene, (lamp, y + h // 2), max(2, w // 16), (1.2, 1.2, 1.2), -1)
    scene = scene * exposure + rng.normal(0, 0.01, scene.shape).astype(np.float32)
    return np.clip(scene * 255 + 0.5, 0, 255).astype(np.uint8)
