"""llie_core: low-light image enhancement for robot perception (ROS-free core).

``create_enhancer`` is the runtime entry point (onnxruntime/numpy; no torch needed);
``create_model`` builds the torch modules (imported lazily, so torch stays optional).
"""

from __future__ import annotations

from llie_core.engine import Enhancer, MissingWeightsError, create_enhancer
from llie_core.registry import ModelSpec, get_spec, list_specs

__version__ = "0.1.0"
__all__ = ["Enhancer", "MissingWeightsError", "ModelSpec", "create_enhancer", "create_model", "get_spec", "list_specs"]


def __getattr__(name: str):
    # create_model needs torch; resolve it only when asked for.
    if name == "create_model":
        from llie_core.models import create_model

        return create_model
    raise AttributeError(f"module 'llie_core' has no attribute {name!r}")
