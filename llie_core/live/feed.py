"""Frames from a source to the processing loop: keep-latest from a reader thread, or every frame in turn.

Keep-latest (cameras and streams, and recordings paced at their own rate): a reader thread takes each frame when the
source gives it and leaves it in a LatestSlot (llie_core.stream, the nodes' intake); a frame that replaces one the loop
has not taken yet is dropped and counted, so a slow model always works on the newest frame and never on a queue.
Every frame (recordings with realtime pacing off): the loop reads the next frame when it is ready for it, so nothing
is dropped and the run goes as fast as the processing allows.

Frames are counted as received when they are read (StatsCounter.on_received with the source's timeline, for the
frame-loss count); frames the source could not decode are counted as failed there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from llie_core.live.sources import FrameSource, SourceFrame
from llie_core.stream import LatestSlot, StatsCounter


@dataclass
class Arrival:
    """A decoded frame and when it was read (``clock()``), the start of its latency."""

    frame: SourceFrame
    arrived: float


class Feed:
    """Iterates the frames a source gives, keep-latest or every one; ``stop()`` ends it from any thread.

    ``pace`` releases a recording's frames at the rate of their timeline, SourceFrame.source_ns (a camera paces
    itself). The feed owns the source: it is closed when the feed ends. ``error`` holds why the source ended early.
    """

    def __init__(
        self,
        source: FrameSource,
        stats: StatsCounter,
        *,
        keep_latest: bool,
        pace: bool,
        clock: Callable[[], float] = time.monotonic,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.source, self.stats = source, stats
        source.on_camera_info = stats.on_camera_info  # a bag's camera_info stamps tell lost images too
        self.keep_latest, self.pace = keep_latest, pace
        self.clock = clock
        self.error: str | None = None
        self._warn = warn or (lambda _text: None)
        self._stop = threading.Event()
        self._slot: LatestSlot[Arrival] = LatestSlot()
        self._thread: threading.Thread | None = None
        self._base: tuple[float, int] | None = None  # (clock, stamp) the pacing counts from
        self._last_stamp: int | None = None

    def __iter__(self) -> Iterator[Arrival]:
        if not self.keep_latest:
            yield from self._every_frame()
            return
        self._thread = threading.Thread(target=self._read, name="llie-live-reader", daemon=True)
        self._thread.start()
        while not self._stop.is_set():
            item = self._slot.take(timeout=0.5)
            if item is not None:
                yield item
            elif self._slot.closed:
                return

    def stop(self, timeout: float = 2.0) -> None:
        """End the feed; waits up to ``timeout`` s for the reader thread (a camera read may be in progress).

        A frame still waiting for the loop is dropped (counted), so every frame read is processed, failed or dropped.
        """
        self._stop.set()
        self._slot.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._slot.take(timeout=0) is not None:
            self.stats.on_dropped()

    def _every_frame(self) -> Iterator[Arrival]:
        try:
            for frame in self.source.frames():
                if self._stop.is_set():
                    return
                if self._accept(frame):
                    yield Arrival(frame, self.clock())
        except Exception as exc:  # the source broke mid-stream: the frames so far stand
            self.error = str(exc)
        finally:
            self.source.close()

    def _read(self) -> None:
        try:
            for frame in self.source.frames():
                if self.pace:
                    self._wait_for(frame.source_ns)
                if self._stop.is_set():
                    return
                if self._accept(frame) and self._slot.put(Arrival(frame, self.clock())) is not None:
                    self.stats.on_dropped()
        except Exception as exc:  # the source broke mid-stream: the frames so far stand
            self.error = str(exc)
        finally:
            self._slot.close()
            self.source.close()

    def _accept(self, frame: SourceFrame) -> bool:
        """Count the frame as received; an undecodable one as failed too (warned about once per kind)."""
        self.stats.on_received(frame.source_ns)
        if frame.array is None:
            reason = frame.error or "no image"
            if self.stats.on_failed(reason):
                self._warn(f"{self.source.name}: frame skipped: {reason} (warned once; counted as failed)")
            return False
        return True

    def _wait_for(self, stamp: int | None) -> None:
        """Sleep until the frame is due: as far after the first frame as its time is after the first one's."""
        if stamp is None:
            return
        if self._base is None or self._last_stamp is None or stamp < self._last_stamp:
            self._base = (self.clock(), stamp)  # the start, or a replay that went back in time
        self._last_stamp = stamp
        due = self._base[0] + (stamp - self._base[1]) / 1e9
        delay = due - self.clock()
        if delay > 0:
            self._stop.wait(delay)
