"""One ``llie live`` run: every frame the feed hands over through the stream processor, the detector and the outputs.

Per frame: the enhancer node's StreamProcessor (gating, temporal smoothing, its counters), the detector on the
enhanced frame, then the outputs (the Foxglove channels, the window); each stage is timed. The total latency runs
from the frame's arrival (when it was read) to its outputs being published, as the node's latency_ms does. A stage
that raises counts the frame as failed (the reason is warned about once per kind) and the run goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from llie_core.detect import Detection, Detector
from llie_core.imgmsg import convert_layout
from llie_core.live.feed import Arrival, Feed
from llie_core.stream import FrameStats, StreamProcessor

STAGES = ("enhance", "detect", "publish", "total")


class Output(Protocol):
    """Where a processed frame goes (llie_core.live.foxglove_out.FoxgloveOutput)."""

    def publish(
        self,
        stamp_ns: int,
        raw: np.ndarray,
        enhanced: np.ndarray,
        detections: Sequence[Detection],
        lines: Sequence[str],
    ) -> None:
        """Publish one frame's images and annotations."""

    def publish_stats(self, stamp_ns: int, stats: FrameStats, stages: dict[str, float], detections: int) -> None:
        """Publish one frame's stats."""


@dataclass
class Summary:
    """What a run did: the stream counters, latency per stage (median, p95 in ms) and the processing rate."""

    read: int
    processed: int
    dropped: int
    failed: int
    gated: int
    lost: int
    latency_ms: dict[str, tuple[float, float]] = field(default_factory=dict)
    seconds: float = 0.0
    stopped_by: str = "end of source"  # or "Ctrl-C", "window closed", "--max-frames"
    source_error: str | None = None
    last_error: str = ""

    @property
    def unfinished(self) -> int:
        """Frames read but neither processed, failed nor dropped: in processing when the run was stopped."""
        return self.read - self.processed - self.failed - self.dropped

    @property
    def fps(self) -> float:
        """Frames processed per second of the run."""
        return self.processed / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        """The closing summary, for people."""
        out = [
            f"{self.read} frames read, {self.processed} processed, {self.dropped} dropped, "
            f"{self.failed} failed, {self.lost} lost before llie, {self.gated} gated; stopped by {self.stopped_by}"
            + (f" ({self.unfinished} frame in processing)" if self.unfinished else ""),
        ]
        if self.latency_ms:
            parts = [f"{name} {med:.1f} / {p95:.1f}" for name, (med, p95) in self.latency_ms.items()]
            out.append("latency ms, median / p95: " + ", ".join(parts) + " (total: read → published)")
        out.append(f"{self.fps:.1f} frames/s processed over {self.seconds:.1f} s")
        if self.last_error:
            out.append(f"last failure: {self.last_error}")
        if self.source_error:
            out.append(f"the source ended early: {self.source_error}")
        return out


def overlay_lines(model: str, stages: dict[str, float], fps: float, dropped: int, detections: int | None) -> list[str]:
    """The latency text drawn on the live images (window and Foxglove annotations)."""
    timing = f"enhance {stages['enhance']:.1f} ms"
    if detections is not None:
        timing += f" | detect {stages['detect']:.1f} ms ({detections} found)"
    return [f"{model}: {timing}", f"{fps:.1f} fps | {dropped} dropped"]


class LiveSession:
    """The processing loop of ``llie live`` over a Feed; ``run`` returns the Summary."""

    def __init__(
        self,
        processor: StreamProcessor,
        detector: Detector | None = None,
        outputs: Sequence[Output] = (),
        window: Any = None,
        clock: Callable[[], float] = time.monotonic,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.processor, self.detector = processor, detector
        self.outputs, self.window = list(outputs), window
        self.clock = clock
        self._warn = warn or (lambda _text: None)
        self.latencies: dict[str, list[float]] = {name: [] for name in STAGES}
        self._window_open = True

    def warm_up(self, shape: tuple[int, ...] = (480, 640, 3)) -> None:
        """Run the models once on a dark frame, so one-off costs (compilation, runtime set-up) miss the first frames."""
        dark = np.full(shape, 16, np.uint8)
        if self.processor.model.current is not None:
            self.processor.model.current.enhance(dark)
        if self.detector is not None:
            self.detector.detect(dark)

    def step(self, arrival: Arrival) -> dict[str, float] | None:
        """Process and publish one frame; its stage latencies in ms, or None when it failed (counted)."""
        try:
            return self._step(arrival)
        except Exception as exc:  # a model, conversion or output error costs this frame, not the run
            reason = f"{type(exc).__name__}: {exc}"
            if self.processor.stats.on_failed(reason):
                self._warn(f"frame failed: {reason} (warned once; counted as failed)")
            return None

    def _step(self, arrival: Arrival) -> dict[str, float]:
        source = arrival.frame
        assert source.array is not None  # the feed passes decodable frames only
        start = self.clock()
        frame = self.processor.process(source.array, source.encoding)
        enhanced_bgr = convert_layout(frame.array, frame.encoding, "bgr8")
        enhanced_at = self.clock()
        detections = self.detector.detect(enhanced_bgr) if self.detector is not None else []
        detected_at = self.clock()
        stages = {"enhance": (enhanced_at - start) * 1e3, "detect": (detected_at - enhanced_at) * 1e3}
        snap = self.processor.stats.snapshot()
        lines = overlay_lines(
            frame.model or "passthrough",
            stages,
            snap.rate_hz,
            snap.dropped,
            len(detections) if self.detector is not None else None,
        )
        raw_bgr = convert_layout(source.array, source.encoding, "bgr8")
        stamp = source.stamp_ns or 0
        for output in self.outputs:
            output.publish(stamp, raw_bgr, enhanced_bgr, detections, lines)
        if self.window is not None and self._window_open:
            self._window_open = self.window.show(raw_bgr, Detector.annotate(enhanced_bgr, detections), lines)
        published_at = self.clock()
        stages["publish"] = (published_at - detected_at) * 1e3
        stats = self.processor.finish(frame, published_at - arrival.arrived)
        stages["total"] = stats.latency_ms
        extra = {f"{name}_ms": stages[name] for name in ("enhance", "detect", "publish")}
        for output in self.outputs:
            output.publish_stats(stamp, stats, extra, len(detections))
        for name, value in stages.items():
            self.latencies[name].append(value)
        return stages

    def run(self, feed: Feed, max_frames: int | None = None) -> Summary:
        """Process the feed until it ends, ``max_frames`` were processed, the window closes or Ctrl-C."""
        start = self.clock()
        stopped_by = "end of source"
        frames = iter(feed)
        try:
            for arrival in frames:
                self.step(arrival)
                if not self._window_open:
                    stopped_by = "window closed"
                    break
                if max_frames is not None and self.processor.stats.processed >= max_frames:
                    stopped_by = "--max-frames"
                    break
        except KeyboardInterrupt:
            stopped_by = "Ctrl-C"
        finally:
            frames.close()  # type: ignore[attr-defined]
            feed.stop()
        return self.summary(self.clock() - start, stopped_by, feed.error)

    def summary(self, seconds: float, stopped_by: str, source_error: str | None = None) -> Summary:
        """The Summary of the frames so far."""
        snap = self.processor.stats.snapshot()
        latency = {
            name: (float(np.median(values)), float(np.percentile(values, 95)))
            for name, values in self.latencies.items()
            if values and (name != "detect" or self.detector is not None)
        }
        return Summary(
            read=snap.received,
            processed=snap.processed,
            dropped=snap.dropped,
            failed=snap.failed,
            gated=snap.gated,
            lost=snap.lost,
            latency_ms=latency,
            seconds=seconds,
            stopped_by=stopped_by,
            source_error=source_error,
            last_error=snap.last_error,
        )
