"""Counters of one camera stream: frames received, processed, dropped, failed, gated and lost, latency, health."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from llie_core.stream.loss import LossCounter

# diagnostic_msgs/DiagnosticStatus levels, repeated here so that the core needs no ROS import.
DIAG_OK, DIAG_WARN, DIAG_ERROR = 0, 1, 2

# WARN when at least this share of the frames sent since the last report was lost before the node (and at
# least LOSS_WARN_MIN frames, so one missing frame of a slow camera is no alarm).
LOSS_WARN_FRACTION = 0.1
LOSS_WARN_MIN = 2
# WARN when no image has arrived for this many frame periods (at least STALL_MIN_S) after the stream started: a
# stalled transport or a stopped camera, seen even when camera_info stops too (nothing left to count losses from).
STALL_PERIODS = 20
STALL_MIN_S = 3.0
# Once neither an image nor a camera_info has arrived for this long, the stream has ended or stopped: camera_info
# still waiting for its image is judged (llie_core.stream.loss), so the counts add up.
IDLE_FLUSH_S = 1.0


@dataclass
class StatsSnapshot:
    """Counters and rates at one moment."""

    received: int
    processed: int
    dropped: int
    failed: int
    gated: int
    lost: int  # before the node: see llie_core.stream.loss
    rate_hz: float
    latency_ms: float  # median of the recent window
    latency_max_ms: float
    last_error: str
    errors: dict[str, int] = field(default_factory=dict)


class StatsCounter:
    """Thread-safe frame counters, a latency window, frame-loss detection and once-only error reporting."""

    def __init__(self, window: int = 100, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.received = self.processed = self.dropped = self.failed = self.gated = 0
        self.loss = LossCounter()
        self._latencies: deque[float] = deque(maxlen=window)
        self._stamps: deque[float] = deque(maxlen=window)
        self.last_error = ""
        self.errors: dict[str, int] = {}
        self._reported_failed = 0
        self._reported_lost = self._reported_received = 0
        self._last_image: float | None = None
        self._last_arrival: float | None = None

    def on_received(self, stamp_ns: int | None = None) -> None:
        """A frame arrived (``stamp_ns``: its header stamp, for loss detection)."""
        with self._lock:
            self.received += 1
            self._last_image = self._last_arrival = self._clock()
            if stamp_ns is not None:
                self.loss.on_image(stamp_ns)

    def on_camera_info(self, stamp_ns: int) -> None:
        """The camera's camera_info with this header stamp arrived (for loss detection)."""
        with self._lock:
            self._last_arrival = self._clock()
            self.loss.on_camera_info(stamp_ns)

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
                lost=self.loss.lost,
                rate_hz=rate,
                latency_ms=lat[len(lat) // 2] if lat else 0.0,
                latency_max_ms=lat[-1] if lat else 0.0,
                last_error=self.last_error,
                errors=dict(self.errors),
            )

    def summary(self) -> str:
        """The books of the stream once it has ended: every frame sent is processed, dropped, failed or lost."""
        with self._lock:
            self.loss.flush()
        snap = self.snapshot()
        unfinished = snap.received - snap.processed - snap.dropped - snap.failed
        return (
            f"{snap.received + snap.lost} frames sent = {snap.processed} processed + {snap.dropped} dropped + "
            f"{snap.failed} failed + {snap.lost} lost before the node"
            + (f" + {unfinished} cut off by the stop" if unfinished else "")
            + f" ({snap.gated} of the processed passed through by the gate)"
        )

    def _stalled_for(self) -> float | None:
        """Seconds since the last image when that is long for this stream (else None); flushes an ended stream."""
        now = self._clock()
        if self._last_arrival is not None and now - self._last_arrival >= IDLE_FLUSH_S:
            self.loss.flush()
        if self._last_image is None:
            return None
        period = self.loss.period_ns
        limit = max(STALL_MIN_S, STALL_PERIODS * period * 1e-9) if period else STALL_MIN_S
        idle = now - self._last_image
        return idle if idle >= limit else None

    def diagnostic(self) -> tuple[int, str, dict[str, str]]:
        """(level, message, key/values) for diagnostic_msgs: WARN on new failures, frame loss, a stall, heavy drops."""
        with self._lock:
            stalled = self._stalled_for()
        snap = self.snapshot()
        with self._lock:
            new_failures = snap.failed - self._reported_failed
            new_lost, new_received = snap.lost - self._reported_lost, snap.received - self._reported_received
            self._reported_failed, self._reported_lost, self._reported_received = snap.failed, snap.lost, snap.received
        values = {
            "frames received": str(snap.received),
            "frames processed": str(snap.processed),
            "frames dropped": str(snap.dropped),
            "frames failed": str(snap.failed),
            "frames gated": str(snap.gated),
            "frames lost before the node": str(snap.lost),
            "rate (Hz)": f"{snap.rate_hz:.2f}",
            "latency median (ms)": f"{snap.latency_ms:.2f}",
            "latency max (ms)": f"{snap.latency_max_ms:.2f}",
            "last error": snap.last_error,
        }
        if snap.failed and not snap.processed:
            return DIAG_ERROR, f"every frame failed: {snap.last_error}", values
        if new_failures:
            return DIAG_WARN, f"{new_failures} frame(s) failed: {snap.last_error}", values
        if new_lost >= LOSS_WARN_MIN and new_lost >= LOSS_WARN_FRACTION * (new_lost + new_received):
            sent = new_lost + new_received
            return (
                DIAG_WARN,
                f"{new_lost} of {sent} frames ({100 * new_lost / sent:.0f}%) lost before the node since the last "
                f"report (gaps in the image stamps, camera_info without its image): check the QoS, DDS socket "
                f"buffers and CPU load",
                values,
            )
        if stalled is not None:
            return (
                DIAG_WARN,
                f"no frame for {stalled:.0f} s after {snap.received}: the camera stopped, or its frames are lost "
                f"before the node (check the QoS, DDS socket buffers and CPU load)",
                values,
            )
        if snap.received >= 20 and snap.dropped > snap.processed:
            return DIAG_WARN, "most frames dropped: processing is slower than the camera", values
        if not snap.received:
            return DIAG_OK, "waiting for frames", values
        return DIAG_OK, "ok", values
