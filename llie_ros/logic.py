"""Plain-Python building blocks of the nodes: gating, temporal smoothing, keep-latest buffer, statistics."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

T = TypeVar("T")

# diagnostic_msgs/DiagnosticStatus levels, repeated here so the logic needs no ROS import.
DIAG_OK, DIAG_WARN, DIAG_ERROR = 0, 1, 2

# Start of the line each node logs once it is subscribed and its models are warm; bag_replay.launch.py waits
# for it before playing, so no recorded frame reaches a node that is still loading.
READY = "ready: "


class FrameGate:
    """Decides per frame whether to enhance: only frames darker than a threshold, with hysteresis.

    A frame whose mean luminance is at or above ``threshold`` bypasses enhancement; once bypassing,
    enhancement resumes only below ``threshold - hysteresis`` so that a scene hovering at the threshold
    does not flicker between enhanced and raw.
    """

    def __init__(self, threshold: float = 0.4, hysteresis: float = 0.05, enabled: bool = True) -> None:
        self.configure(threshold, hysteresis, enabled)
        self.bypassing = False

    def configure(self, threshold: float, hysteresis: float, enabled: bool) -> None:
        """Change the settings; the current state is kept."""
        if not 0.0 <= threshold <= 1.0 or not 0.0 <= hysteresis <= threshold:
            raise ValueError(
                f"gate threshold must be in [0, 1] and hysteresis in [0, threshold]: {threshold}, {hysteresis}"
            )
        self.threshold, self.hysteresis, self.enabled = float(threshold), float(hysteresis), bool(enabled)

    def should_enhance(self, luminance: float) -> bool:
        """True when a frame of this mean luminance is to be enhanced."""
        if not self.enabled:
            self.bypassing = False
            return True
        if self.bypassing:
            self.bypassing = luminance >= self.threshold - self.hysteresis
        else:
            self.bypassing = luminance >= self.threshold
        return not self.bypassing


class CurveSmoother:
    """Exponential moving average of low-resolution curve maps between frames (no flicker on video).

    ``alpha`` is the weight of the past (0: no smoothing). The average restarts when the curve shape or
    the key (e.g. model name) changes, so a model swap or resolution change never blends unrelated maps.
    """

    def __init__(self, alpha: float = 0.6) -> None:
        self.alpha = float(alpha)
        self._state: np.ndarray | None = None
        self._key: Hashable = None

    def reset(self) -> None:
        """Forget the average; the next frame starts a new one."""
        self._state, self._key = None, None

    def update(self, curves: np.ndarray, key: Hashable = None) -> np.ndarray:
        """Blend this frame's curves into the average and return the average."""
        curves = np.asarray(curves, dtype=np.float32)
        if self._state is None or self._state.shape != curves.shape or key != self._key or self.alpha <= 0:
            self._state, self._key = curves.copy(), key
        else:
            self._state = self.alpha * self._state + (1.0 - self.alpha) * curves
        return self._state


class GainSmoother:
    """EMA of a scalar gain (output / input luminance) for enhancers that have no curve maps."""

    def __init__(self, alpha: float = 0.6) -> None:
        self.alpha = float(alpha)
        self._state: float | None = None
        self._key: Hashable = None

    def reset(self) -> None:
        """Forget the average."""
        self._state, self._key = None, None

    def update(self, gain: float, key: Hashable = None) -> float:
        """Blend this frame's gain into the average and return the average."""
        if self._state is None or key != self._key or self.alpha <= 0 or not np.isfinite(gain):
            self._state, self._key = float(gain), key
        else:
            self._state = self.alpha * self._state + (1.0 - self.alpha) * float(gain)
        return self._state


class LatestSlot(Generic[T]):
    """Thread-safe single-slot buffer: a new item replaces a waiting one, which is returned as dropped.

    A slow consumer therefore always gets the newest frame instead of working through a stale queue.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._full = False
        self._closed = False
        self.dropped = 0

    def put(self, item: T) -> T | None:
        """Store an item; returns the unconsumed item it replaced (counted as dropped), else None."""
        with self._cond:
            old = self._item if self._full else None
            if self._full:
                self.dropped += 1
            self._item, self._full = item, True
            self._cond.notify()
            return old

    def take(self, timeout: float | None = None) -> T | None:
        """Wait for an item and remove it; None on timeout or once closed."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._full or self._closed, timeout=timeout):
                return None
            if not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            return item

    def close(self) -> None:
        """Wake and release every waiting consumer."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._closed


class FrameWorker:
    """One consumer thread that takes the latest item from a LatestSlot and hands it to ``handler``.

    The handler's exceptions are passed to ``on_error`` and never end the thread.
    """

    def __init__(
        self,
        handler: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
        name: str = "llie-frame-worker",
    ) -> None:
        self.slot: LatestSlot[Any] = LatestSlot()
        self._handler, self._on_error = handler, on_error
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> FrameWorker:
        """Start the consumer thread."""
        self._thread.start()
        return self

    def submit(self, item: Any) -> bool:
        """Offer an item; False when it replaced one still waiting (a drop)."""
        return self.slot.put(item) is None

    def stop(self, timeout: float = 2.0) -> None:
        """Close the slot and wait for the thread to finish its current item."""
        self.slot.close()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self.slot.closed:
            item = self.slot.take(timeout=0.5)
            if item is None:
                continue
            try:
                self._handler(item)
            except Exception as exc:  # a bad frame must never kill the node
                if self._on_error is not None:
                    self._on_error(exc)


@dataclass
class StatsSnapshot:
    """Counters and rates at one moment."""

    received: int
    processed: int
    dropped: int
    failed: int
    gated: int
    rate_hz: float
    latency_ms: float  # median of the recent window
    latency_max_ms: float
    last_error: str
    errors: dict[str, int] = field(default_factory=dict)


class StatsCounter:
    """Thread-safe frame counters, a latency window and once-only error reporting for one node."""

    def __init__(self, window: int = 100, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.received = self.processed = self.dropped = self.failed = self.gated = 0
        self._latencies: deque[float] = deque(maxlen=window)
        self._stamps: deque[float] = deque(maxlen=window)
        self.last_error = ""
        self.errors: dict[str, int] = {}
        self._reported_failed = 0

    def on_received(self) -> None:
        """A frame arrived."""
        with self._lock:
            self.received += 1

    def on_dropped(self, n: int = 1) -> None:
        """Frames were replaced by newer ones before being processed."""
        with self._lock:
            self.dropped += n

    def on_processed(self, latency_s: float, gated: bool = False) -> None:
        """A frame was published; latency from arrival to publication."""
        with self._lock:
            self.processed += 1
            self.gated += int(gated)
            self._latencies.append(latency_s * 1e3)
            self._stamps.append(self._clock())

    def on_failed(self, reason: str) -> bool:
        """A frame failed; returns True the first time this kind of reason is seen (log it only then).

        Reasons that differ only in numbers (sizes, indices) are one kind, so a stream of malformed
        frames of varying length is logged once.
        """
        key = re.sub(r"\d+", "#", reason)
        with self._lock:
            self.failed += 1
            self.last_error = reason
            first = key not in self.errors
            self.errors[key] = self.errors.get(key, 0) + 1
            return first

    def snapshot(self) -> StatsSnapshot:
        """Current counters, processing rate over the window and latency median/max."""
        with self._lock:
            lat = sorted(self._latencies)
            rate = 0.0
            if len(self._stamps) >= 2 and self._stamps[-1] > self._stamps[0]:
                rate = (len(self._stamps) - 1) / (self._stamps[-1] - self._stamps[0])
            return StatsSnapshot(
                received=self.received,
                processed=self.processed,
                dropped=self.dropped,
                failed=self.failed,
                gated=self.gated,
                rate_hz=rate,
                latency_ms=lat[len(lat) // 2] if lat else 0.0,
                latency_max_ms=lat[-1] if lat else 0.0,
                last_error=self.last_error,
                errors=dict(self.errors),
            )

    def diagnostic(self) -> tuple[int, str, dict[str, str]]:
        """(level, message, key/values) for diagnostic_msgs: WARN on new failures or heavy drops."""
        snap = self.snapshot()
        with self._lock:
            new_failures = snap.failed - self._reported_failed
            self._reported_failed = snap.failed
        values = {
            "frames received": str(snap.received),
            "frames processed": str(snap.processed),
            "frames dropped": str(snap.dropped),
            "frames failed": str(snap.failed),
            "frames gated": str(snap.gated),
            "rate (Hz)": f"{snap.rate_hz:.2f}",
            "latency median (ms)": f"{snap.latency_ms:.2f}",
            "latency max (ms)": f"{snap.latency_max_ms:.2f}",
            "last error": snap.last_error,
        }
        if snap.failed and not snap.processed:
            return DIAG_ERROR, f"every frame failed: {snap.last_error}", values
        if new_failures:
            return DIAG_WARN, f"{new_failures} frame(s) failed: {snap.last_error}", values
        if snap.received >= 20 and snap.dropped > snap.processed:
            return DIAG_WARN, "most frames dropped: processing is slower than the camera", values
        if not snap.received:
            return DIAG_OK, "waiting for frames", values
        return DIAG_OK, "ok", values
