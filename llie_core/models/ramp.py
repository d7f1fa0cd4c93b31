"""The clamped linear ramp that the models' noise gates are built from.

Used by ``noise_dce`` (the blend floor and the quiet gate) and ``iat_student`` (the pre-smoothing weight). It is
written with elementwise ops only, so it exports to ONNX inside their estimator graphs.
"""

from __future__ import annotations

import torch


def ramp(v: torch.Tensor, start: float, full: float) -> torch.Tensor:
    """0 at or below ``start``, 1 at or above ``full``, linear between; elementwise, any shape (start < full)."""
    return ((v - start) / (full - start)).clamp(0.0, 1.0)
