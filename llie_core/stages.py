"""Enhancement stages for evaluations: a model string or a callable → one BGR-frame function, chained with ``+``.

A stage spec is ``[LABEL=]PART[+PART...]``, each part ``MODEL[:WEIGHTS][@SCALE]``: a registry name
(``tiny_dce``, ``clahe``, ``bilateral``), WEIGHTS a path or ``reference``, SCALE the estimation scale
factor or ``maxN`` (the estimator sees at most N pixels on the longer side; the engine's
``max_estimation_side``). ``bilateral+tiny_dce`` denoises then enhances. Parts are built with ``create_enhancer``,
the engine path the ROS nodes use. Python callers may also pass any callable taking and returning an
H×W×3 BGR uint8 frame (a denoiser gated by a noise estimate, a model under training, ...). A RAW model
(``llpacknet``) may only start a chain: such a stage ``takes_raw`` (a ``bayer.RawFrame`` in, BGR out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from llie_core.engine import Enhancer, create_enhancer

Frame = np.ndarray
FrameFn = Callable[[Frame], Frame]


@dataclass(frozen=True)
class ModelEntry:
    """One model to evaluate: a label, a registry name, weights (None = shipped), a scale factor or a maximum
    estimation side (None: the weights' defaults)."""

    label: str
    name: str
    weights: str | None = None
    scale_factor: int | None = None
    max_estimation_side: int | None = None

    @property
    def options(self) -> dict[str, int]:
        """The engine options this entry sets (``create_enhancer``'s ``scale_factor``/``max_estimation_side``)."""
        options = {"scale_factor": self.scale_factor, "max_estimation_side": self.max_estimation_side}
        return {k: v for k, v in options.items() if v is not None}


def parse_model(text: str) -> ModelEntry:
    """Parse ``LABEL=MODEL[:WEIGHTS][@SCALE]`` (LABEL defaults to MODEL; SCALE an integer or ``maxN``)."""
    label, sep, rest = text.partition("=")
    if not sep:
        label, rest = "", text
    scale = max_side = None
    if "@" in rest:
        rest, _, s = rest.rpartition("@")
        value = s.removeprefix("max")
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"model {text!r}: after '@' expected a scale factor >= 1 or maxN (N >= 1), got {s!r}")
        scale, max_side = (None, int(value)) if s.startswith("max") else (int(value), None)
    name, _, weights = rest.partition(":")
    if not name:
        raise ValueError(f"model {text!r}: expected LABEL=MODEL[:WEIGHTS][@SCALE]")
    return ModelEntry(label or name, name, weights or None, scale, max_side)


@dataclass(frozen=True)
class Stage:
    """A labelled chain of frame functions applied in order (BGR uint8 H×W×3 in and out)."""

    label: str
    steps: tuple[FrameFn, ...]
    takes_raw: bool = False  # the first step takes a RAW frame (bayer.RawFrame), not a BGR frame

    def __call__(self, frame: Frame) -> Frame:
        """Run every step on the frame in turn."""
        for step in self.steps:
            frame = step(frame)
        return frame


def build_stage(spec: str, threads: int | None = None) -> Stage:
    """A stage from ``[LABEL=]PART[+PART...]``; networks get ``threads`` (None: the backend's default)."""
    label, sep, chain = spec.partition("=")
    if not sep:
        label, chain = spec, spec
    parts = chain.split("+")
    if not label or not all(parts):
        raise ValueError(f"stage {spec!r}: expected [LABEL=]MODEL[:WEIGHTS][@SCALE][+MODEL...]")
    enhancers = [_enhancer(parse_model(p), threads) for p in parts]
    if any(e.takes_raw for e in enhancers[1:]):
        raw = next(e.name for e in enhancers[1:] if e.takes_raw)
        raise ValueError(f"stage {spec!r}: {raw} takes RAW frames, so it can only start a chain")
    return Stage(label, tuple(e.enhance for e in enhancers), takes_raw=enhancers[0].takes_raw)


def as_stage(label: str, stage: str | Enhancer | FrameFn, threads: int | None = None) -> Stage:
    """A Stage from a spec string (relabelled), an Enhancer or any BGR-frame callable."""
    if isinstance(stage, Stage):
        return Stage(label, stage.steps, stage.takes_raw)
    if isinstance(stage, str):
        built = build_stage(stage, threads)
        return Stage(label, built.steps, built.takes_raw)
    if isinstance(stage, Enhancer):
        return Stage(label, (stage.enhance,), stage.takes_raw)
    if callable(stage):
        return Stage(label, (stage,))
    raise TypeError(f"stage {label!r}: expected a spec string, an Enhancer or a callable, got {type(stage).__name__}")


def build_stages(specs: Sequence[str], threads: int | None = None) -> dict[str, Stage]:
    """Stages by label from spec strings; duplicate labels are an error naming them."""
    stages = [build_stage(s, threads) for s in specs]
    labels = [s.label for s in stages]
    duplicates = sorted({lab for lab in labels if labels.count(lab) > 1})
    if duplicates:
        raise ValueError(f"stage labels must be unique; repeated: {', '.join(duplicates)} (use LABEL=...)")
    return {s.label: s for s in stages}


def _enhancer(entry: ModelEntry, threads: int | None) -> Enhancer:
    from llie_core.registry import get_spec

    if not get_spec(entry.name).is_network:
        if entry.weights is not None or entry.options:
            raise ValueError(f"{entry.name!r} is a classical method: it takes no weights or scale factor")
        return create_enhancer(entry.name)
    options = {"threads": threads} if threads else {}
    return create_enhancer(entry.name, weights=entry.weights, **options, **entry.options)
