"""Helpers shared by the commands that run models on the user's behalf (demo, bench, bag)."""

from __future__ import annotations

from llie_core.engine import Enhancer, MissingWeightsError, create_enhancer
from llie_core.registry import get_spec

REFERENCE = "published reference checkpoint (research use)"


def enhancer_or_reference(name: str, **kwargs) -> tuple[Enhancer, str]:
    """(enhancer, where its weights come from): shipped weights, else the published reference checkpoint."""
    try:
        return create_enhancer(name, **kwargs), "shipped weights" if get_spec(name).kind == "curve" else "classical"
    except MissingWeightsError:
        return create_enhancer(name, weights="reference", **kwargs), REFERENCE
