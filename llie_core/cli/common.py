"""Helpers shared by the commands that run models on the user's behalf (demo, bench, bag)."""

from __future__ import annotations

from pathlib import Path

from llie_core.engine import Enhancer, MissingWeightsError, create_enhancer
from llie_core.registry import get_spec

SHIPPED = "shipped weights"
REFERENCE = "published reference checkpoint (research use)"


def enhancer_or_reference(name: str, weights: str | Path | None = None, **options) -> tuple[Enhancer, str]:
    """(enhancer, where its weights come from): given weights, else shipped, else the published reference.

    ``options`` (backend, scale_factor, threads, device) apply to curve models; classical methods take none.
    """
    if get_spec(name).kind != "curve":
        return create_enhancer(name), "classical"
    if weights is not None:
        return create_enhancer(name, weights=weights, **options), str(weights)
    try:
        return create_enhancer(name, **options), SHIPPED
    except MissingWeightsError:
        return create_enhancer(name, weights="reference", **options), REFERENCE
