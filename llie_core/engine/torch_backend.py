"""Torch backend: the model's curve estimator run eagerly (CPU or CUDA)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from llie_core.models import create_model


class TorchEstimator:
    """Runs ``CurveModel.estimate`` on h×w×3 float32 RGB arrays."""

    def __init__(self, name: str, weights: str | Path, device: str = "cpu", threads: int | None = None) -> None:
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError(f"device {device!r} requested but torch sees no CUDA device")
        if threads:
            torch.set_num_threads(threads)
        self.device = torch.device(device)
        self.model = create_model(name, weights=weights).to(self.device)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """h×w×3 float32 → h×w×C float32 curve maps."""
        x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].to(self.device)
        with torch.inference_mode():
            curves = self.model.estimate(x)
        return curves[0].permute(1, 2, 0).float().cpu().numpy()
