"""Torch backend: the model's estimator run eagerly (CPU or CUDA)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from llie_core.engine.estimate import Estimate
from llie_core.models import create_model


class TorchEstimator:
    """Runs the model's ``estimate``: curves, or IAT maps and globals, of h×w×3 float32 RGB; RAW models' network."""

    def __init__(self, name: str, weights: str | Path, device: str = "cpu", threads: int | None = None) -> None:
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError(f"device {device!r} requested but torch sees no CUDA device")
        if threads:
            torch.set_num_threads(threads)
        self.device = torch.device(device)
        self.model = create_model(name, weights=weights).to(self.device)

    def __call__(self, image: np.ndarray) -> Estimate:
        """h×w×C float32 estimator input (RGB, for some families more channels) → its Estimate (maps h×w×C, globals)."""
        x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].to(self.device)
        with torch.inference_mode():
            estimated = self.model.estimate(x)
        if isinstance(estimated, torch.Tensor):  # curve models: the curves alone; the noise-aware DCE: its maps
            return Estimate(estimated[0].permute(1, 2, 0).float().cpu().numpy())
        maps, params = estimated
        return Estimate(maps[0].permute(1, 2, 0).float().cpu().numpy(), params[0].float().cpu().numpy())

    def run_packed(self, packed: np.ndarray) -> np.ndarray:
        """RAW models: 256×h×w float32 packed RAW → 192×2h×2w float32 sRGB sub-pixels."""
        with torch.inference_mode():
            return self.model.estimate(torch.from_numpy(packed)[None].to(self.device))[0].float().cpu().numpy()
