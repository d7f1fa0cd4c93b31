"""Loading checkpoints safely: weights_only, key layouts, negligible-weight flush, explicit errors."""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

# Weights this small are zeroed at load. Subnormal weights, and the products of tiny normal weights with
# activations (dead channels a trained net leaves at 1e-33), are subnormal numbers, on which CPU kernels
# (oneDNN, onnxruntime) run 25-100x slower: our zero_dce_pp estimator took 120 ms instead of 4.5 ms.
# Below 1e-20 a weight cannot move a float32 sum of the magnitudes these nets compute; zeroing leaves every
# reference and shipped model's output bit-identical (test_models, test_parity).
NEGLIGIBLE = 1e-20

# Other published layouts of our modules' keys: (pattern, replacement), tried in order.
_KEY_ALIASES = (
    (re.compile(r"^module\."), ""),  # saved from nn.DataParallel
    (re.compile(r"^conv(\d)\."), r"e_conv\1."),  # bsun0802/Zero-DCE
)


class CheckpointError(ValueError):
    """A checkpoint that does not fit the model it is loaded into."""


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a plain state_dict (or one under 'state_dict'/'model') with weights_only=True."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"checkpoint {path} is not a state_dict of tensors")
    return obj


def flush_negligible(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Zero every float weight with |w| < NEGLIGIBLE (subnormal arithmetic is 25-100x slower on CPUs)."""
    out = {}
    for key, value in state.items():
        if value.is_floating_point():
            value = torch.where(value.abs() < NEGLIGIBLE, torch.zeros_like(value), value)
        out[key] = value
    return out


def _canonical_keys(state: dict[str, torch.Tensor], expected: set[str]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        new = key
        for pattern, repl in _KEY_ALIASES:
            if new not in expected:
                new = pattern.sub(repl, new)
        out[new] = value
    return out


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a checkpoint strictly into ``model``; mismatches raise CheckpointError naming the keys."""
    expected = model.state_dict()
    state = flush_negligible(_canonical_keys(read_state_dict(path), set(expected)))
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape
    )
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing keys {missing}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected}")
        if wrong:
            parts.append(f"wrong shapes {wrong}")
        raise CheckpointError(f"checkpoint {path} does not fit {type(model).__name__}: " + "; ".join(parts))
    model.load_state_dict(state, strict=True)
    return model
