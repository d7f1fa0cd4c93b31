"""Temporal smoothing of what a model estimates per frame, so that enhancement does not flicker on video.

A model that splits enhancement into ``estimate(frame, rgb) -> state`` (at low resolution) and
``apply(frame, state, rgb) -> frame`` (at full resolution) is smoothed on its state: the state that is
applied is an exponential moving average over frames. The state is whatever the model estimates: for the
networks an ``engine.Estimate`` (the Zero-DCE family's curve maps; the IAT family's maps and its global
gamma and colour matrix), in general an array, a number, or a dataclass, tuple or dict of them, averaged
member by member. A dataclass field whose metadata has ``per_frame`` (the frame's noise sigma an Estimate carries)
describes the frame rather than estimates it: the current frame's value is kept, not averaged, and it is not a
channel of the stats. Methods without that split (classical ones) are smoothed on one number, their global gain
(output over input mean luminance).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Any, Protocol, runtime_checkable

import numpy as np

# np.ndarray | float | tuple[State, ...] | dict[str, State] | a dataclass whose fields are States
State = Any


@runtime_checkable
class StateModel(Protocol):
    """An enhancer whose per-frame estimate can be smoothed between frames before it is applied."""

    def estimate(self, frame: np.ndarray, rgb: bool = False) -> State:
        """The frame's low-resolution state."""

    def apply(self, frame: np.ndarray, estimate: State, rgb: bool = False) -> np.ndarray:
        """The frame enhanced with ``estimate`` (a state from ``estimate``, or an average of several)."""


def _is_record(state: State) -> bool:
    return dataclasses.is_dataclass(state) and not isinstance(state, type)


def _members(state: State) -> dict[str, State]:
    """The fields that are averaged (not ``per_frame``): ``dataclasses.replace`` keeps the others as they are."""
    return {f.name: getattr(state, f.name) for f in dataclasses.fields(state) if not f.metadata.get("per_frame")}


def _as_state(state: State) -> State:
    if _is_record(state):
        return dataclasses.replace(state, **{k: _as_state(v) for k, v in _members(state).items()})
    if isinstance(state, dict):
        return {k: _as_state(v) for k, v in state.items()}
    if isinstance(state, tuple | list):
        return tuple(_as_state(v) for v in state)
    if isinstance(state, np.ndarray):
        return np.asarray(state, dtype=np.float32)
    return float(state)


def _compatible(old: State, new: State) -> bool:
    """Same structure, keys and array shapes: only then is averaging meaningful."""
    if _is_record(new):
        return type(old) is type(new) and _compatible(_members(old), _members(new))
    if isinstance(new, dict):
        return isinstance(old, dict) and old.keys() == new.keys() and all(_compatible(old[k], new[k]) for k in new)
    if isinstance(new, tuple):
        return (
            isinstance(old, tuple)
            and len(old) == len(new)
            and all(_compatible(a, b) for a, b in zip(old, new, strict=True))
        )
    if isinstance(new, np.ndarray):
        return isinstance(old, np.ndarray) and old.shape == new.shape
    return isinstance(old, float)


def _finite(state: State) -> bool:
    if _is_record(state):
        return _finite(_members(state))
    if isinstance(state, dict):
        return all(_finite(v) for v in state.values())
    if isinstance(state, tuple):
        return all(_finite(v) for v in state)
    return bool(np.all(np.isfinite(state)))


def _blend(old: State, new: State, alpha: float) -> State:
    if _is_record(new):
        return dataclasses.replace(new, **_blend(_members(old), _members(new), alpha))
    if isinstance(new, dict):
        return {k: _blend(old[k], v, alpha) for k, v in new.items()}
    if isinstance(new, tuple):
        return tuple(_blend(a, b, alpha) for a, b in zip(old, new, strict=True))
    return alpha * old + (1.0 - alpha) * new


def _copy(state: State) -> State:
    if _is_record(state):
        return dataclasses.replace(state, **_copy(_members(state)))
    if isinstance(state, dict):
        return {k: _copy(v) for k, v in state.items()}
    if isinstance(state, tuple):
        return tuple(_copy(v) for v in state)
    return state.copy() if isinstance(state, np.ndarray) else state


def channel_means(state: State) -> list[float]:
    """Mean of each channel (last axis) of the state's arrays, and its numbers, in order: for the stats."""
    if _is_record(state):
        return channel_means(_members(state))
    if isinstance(state, dict):
        return [m for v in state.values() for m in channel_means(v)]
    if isinstance(state, tuple):
        return [m for v in state for m in channel_means(v)]
    if isinstance(state, np.ndarray):
        if state.ndim == 0:
            return [float(state)]
        if state.size == 0:
            return []
        return [float(v) for v in state.reshape(-1, state.shape[-1]).mean(axis=0)]
    return [float(state)]


class Ema:
    """Exponential moving average of a per-frame state (an Estimate, curve maps, a gain, or a tuple/dict of them).

    ``alpha`` is the weight of the past (0: no smoothing). The average restarts when the key (e.g. the model and
    frame size) or the state's layout changes, so a model swap or resolution change never blends unrelated
    states. A non-finite state is returned as it is and not blended in.
    """

    def __init__(self, alpha: float = 0.6) -> None:
        self.alpha = float(alpha)
        self._state: State = None
        self._key: Hashable = None

    def reset(self) -> None:
        """Forget the average; the next frame starts a new one."""
        self._state, self._key = None, None

    def update(self, state: State, key: Hashable = None) -> State:
        """Blend this frame's state into the average and return the average."""
        state = _as_state(state)
        if not _finite(state):
            return state
        if self._state is None or key != self._key or self.alpha <= 0 or not _compatible(self._state, state):
            self._state, self._key = _copy(state), key
        else:
            self._state = _blend(self._state, state, self.alpha)
        return self._state
