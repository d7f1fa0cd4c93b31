"""One camera stream through an enhancer, as the enhancer node runs it: gating, temporal smoothing, statistics.

The nodes, ``llie bag enhance``, ``llie bag eval`` and ``llie enhance`` on videos all run frames through
StreamProcessor with the node's parameters (llie_core.params), so the offline tools show what the node publishes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from llie_core.bayer import RawFrame
from llie_core.frames import max_value
from llie_core.imgmsg import BAYER_ENCODINGS, FrameError, default_output_encoding, mean_luminance
from llie_core.params import ENHANCER_PARAMS
from llie_core.stream.gate import FrameGate
from llie_core.stream.stats import StatsCounter
from llie_core.stream.temporal import Ema, StateModel, channel_means

_DEFAULTS = {spec.name: spec.default for spec in ENHANCER_PARAMS}


@dataclass
class StreamSettings:
    """The enhancer parameters that change per frame behaviour without rebuilding the model (node defaults)."""

    enabled: bool = _DEFAULTS["enabled"]
    auto_gate: bool = _DEFAULTS["auto_gate"]
    gate_threshold: float = _DEFAULTS["gate_threshold"]
    gate_hysteresis: float = _DEFAULTS["gate_hysteresis"]
    smoothing: float = _DEFAULTS["smoothing"]
    output_encoding: str = _DEFAULTS["output_encoding"]
    publish_compressed: bool = _DEFAULTS["publish_compressed"]
    jpeg_quality: int = _DEFAULTS["jpeg_quality"]
    raw_black_level: int = _DEFAULTS["raw_black_level"]
    raw_white_level: int = _DEFAULTS["raw_white_level"]  # 0: the encoding's full scale

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> StreamSettings:
        """Settings from a parameter mapping (missing names keep their defaults)."""
        return cls(**{k: params[k] for k in cls.__dataclass_fields__ if k in params})

    def output_encoding_for(self, source_encoding: str) -> str:
        """The encoding the enhanced frame of an input in ``source_encoding`` is published in."""
        return self.output_encoding or default_output_encoding(source_encoding)

    def raw_frame(self, mosaic: np.ndarray, encoding: str) -> RawFrame:
        """A bayer_* mosaic with its pattern and these settings' levels; FrameError when they do not fit it."""
        white = self.raw_white_level or max_value(mosaic.dtype)
        try:
            return RawFrame(mosaic, BAYER_ENCODINGS[encoding], self.raw_black_level, white)
        except ValueError as exc:
            raise FrameError(f"image {encoding}: {exc} (parameters raw_black_level, raw_white_level)") from None


class ModelSource(Protocol):
    """Where the processor finds the running enhancer; ``generation`` changes whenever the model is swapped."""

    current: Any
    generation: int


@dataclass
class FixedModel:
    """A ModelSource that never swaps (the offline tools)."""

    current: Any
    generation: int = 0


@dataclass
class StreamFrame:
    """One processed frame and what was done to it."""

    array: np.ndarray
    encoding: str  # working encoding of ``array``
    input_luminance: float
    output_luminance: float
    gated: bool
    enhanced: bool
    enabled: bool = True
    model: str = ""
    backend: str = ""
    curve_mean: list[float] = field(default_factory=list)

    @property
    def gain(self) -> float:
        """Output over input mean luminance (1.0 for black frames)."""
        return self.output_luminance / self.input_luminance if self.input_luminance > 1e-6 else 1.0


@dataclass
class FrameStats:
    """The per-frame report: the fields of llie/msg/EnhancementStats except the header."""

    model: str
    backend: str
    enabled: bool
    gated: bool
    input_mean_luminance: float
    output_mean_luminance: float
    applied_gain: float
    curve_mean: list[float]
    latency_ms: float
    frames_received: int
    frames_processed: int
    frames_dropped: int
    frames_failed: int
    frames_gated: int
    frames_lost: int
    last_error: str

    def fields(self) -> dict[str, Any]:
        """Keyword arguments of an EnhancementStats message (add ``header``)."""
        return dataclasses.asdict(self)


class StreamProcessor:
    """Per-camera state of the enhancer node: gate, temporal smoothing and counters around the running model.

    Per frame: ``receive(stamp)`` when it arrives (counts it, detects frames lost before it), ``process`` to gate
    and enhance it, ``finish`` once it is published (latency, counters: the per-frame stats). ``run`` does the three
    for tools that publish nothing. Gated frames pass through unchanged and restart the smoothing, as do model
    swaps and frame-size changes (``_restart``).

    Extension point for temporal denoising: a denoiser sits in ``process`` between the gate and the estimate, on
    the input frame of the enhanced branch, keeps its own per-stream state, and restarts in ``_restart`` with the
    smoothing, so that every piece of temporal state follows the same rules.
    """

    def __init__(
        self, model: ModelSource, settings: StreamSettings | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.model = model
        self.gate = FrameGate()
        self.ema = Ema()
        self.stats = StatsCounter(clock=clock)
        self._clock = clock
        self.configure(settings or StreamSettings())

    def configure(self, settings: StreamSettings) -> None:
        """Apply new settings; smoothing restarts when its weight changes."""
        self.gate.configure(settings.gate_threshold, settings.gate_hysteresis, settings.auto_gate)
        if self.ema.alpha != settings.smoothing:
            self.ema.alpha = float(settings.smoothing)
            self._restart()
        self.settings = settings

    def receive(self, stamp_ns: int | None = None) -> None:
        """A frame with this header stamp arrived (before any keep-latest dropping)."""
        self.stats.on_received(stamp_ns)

    def process(self, array: np.ndarray, encoding: str) -> StreamFrame:
        """Enhance one decoded frame (unless bypassed or gated) and measure its luminance before and after.

        A Bayer mosaic (``imgmsg.decode_msg(..., mosaic=True)``) goes to a RAW model as a RawFrame with the
        settings' levels, enhanced into rgb8; every other model, and a bypassed or gated frame, gets it
        demosaiced into bgr8 as the decoder would.
        """
        enhancer, generation = self.model.current, self.model.generation
        name, backend = str(getattr(enhancer, "name", "")), str(getattr(enhancer, "backend", ""))
        settings = self.settings
        passed = {"model": name, "backend": backend, "enabled": settings.enabled}
        takes_raw = bool(getattr(enhancer, "takes_raw", False)) and settings.enabled
        if encoding in BAYER_ENCODINGS and array.ndim == 2:
            raw = settings.raw_frame(array, encoding)
            if takes_raw:
                return self._process_raw(raw, encoding, generation, passed)
            array, encoding = raw.to_bgr8(), "bgr8"
        elif takes_raw:
            raise FrameError(f"{name} takes RAW Bayer frames (bayer_* encodings); this frame is {encoding}")
        lum_in = mean_luminance(array, encoding)
        if not settings.enabled or enhancer is None:
            return StreamFrame(array, encoding, lum_in, lum_in, gated=False, enhanced=False, **passed)
        if not self.gate.should_enhance(lum_in):
            # Bright frame: pass through, and start smoothing afresh when enhancement resumes.
            self._restart()
            return StreamFrame(array, encoding, lum_in, lum_in, gated=True, enhanced=False, **passed)
        rgb = encoding == "rgb8"
        key = (generation, array.shape)
        curve_mean: list[float] = []
        smoothing = settings.smoothing > 0
        if smoothing and isinstance(enhancer, StateModel):
            state = self.ema.update(enhancer.estimate(array, rgb=rgb), key=key)
            out = enhancer.apply(array, state, rgb=rgb)
            curve_mean = channel_means(state)
        else:
            out = enhancer.enhance(array, rgb=rgb)
            if smoothing:
                out = self._smooth_gain(out, encoding, lum_in, key)
        lum_out = mean_luminance(out, encoding)
        return StreamFrame(out, encoding, lum_in, lum_out, gated=False, enhanced=True, curve_mean=curve_mean, **passed)

    def _process_raw(self, raw: RawFrame, encoding: str, generation: int, passed: dict[str, Any]) -> StreamFrame:
        """A RAW model on a mosaic: gate on its mean level, smooth the amplification, enhance into rgb8."""
        lum_in = max(0.0, raw.mean_level())
        if not self.gate.should_enhance(lum_in):
            self._restart()
            return StreamFrame(raw.to_bgr8(), "bgr8", lum_in, lum_in, gated=True, enhanced=False, **passed)
        enhancer = self.model.current
        amplification = enhancer.estimate(raw)
        if self.settings.smoothing > 0:
            amplification = self.ema.update(amplification, key=(generation, raw.shape))
        out = enhancer.apply(raw, amplification, rgb=True)
        lum_out = mean_luminance(out, "rgb8")
        return StreamFrame(
            out, "rgb8", lum_in, lum_out, gated=False, enhanced=True, curve_mean=[float(amplification)], **passed
        )

    def finish(self, frame: StreamFrame, latency_s: float) -> FrameStats:
        """Count a processed (published) frame and report it; ``latency_s`` from its arrival to its publication."""
        self.stats.on_processed(latency_s, gated=frame.gated)
        snap = self.stats.snapshot()
        return FrameStats(
            model=frame.model,
            backend=frame.backend,
            enabled=frame.enabled,
            gated=frame.gated,
            input_mean_luminance=float(frame.input_luminance),
            output_mean_luminance=float(frame.output_luminance),
            applied_gain=float(frame.gain),
            curve_mean=list(frame.curve_mean),
            latency_ms=float(latency_s * 1e3),
            frames_received=snap.received,
            frames_processed=snap.processed,
            frames_dropped=snap.dropped,
            frames_failed=snap.failed,
            frames_gated=snap.gated,
            frames_lost=snap.lost,
            last_error=snap.last_error,
        )

    def run(self, array: np.ndarray, encoding: str, stamp_ns: int | None = None) -> tuple[StreamFrame, FrameStats]:
        """receive, process and finish one frame (latency: the processing time)."""
        self.receive(stamp_ns)
        start = self._clock()
        frame = self.process(array, encoding)
        return frame, self.finish(frame, self._clock() - start)

    def _restart(self) -> None:
        """Forget all temporal state: the next enhanced frame starts afresh."""
        self.ema.reset()

    def _smooth_gain(self, out: np.ndarray, encoding: str, lum_in: float, key: Any) -> np.ndarray:
        # Methods without an estimate (classical ones): scale each output so its global gain follows the smoothed gain.
        lum_out = mean_luminance(out, encoding)
        if lum_in <= 1e-4 or lum_out <= 1e-4:
            return out
        gain = lum_out / lum_in
        target = self.ema.update(gain, key=key)
        ratio = target / gain
        if abs(ratio - 1.0) < 1e-3:
            return out
        return np.clip(out.astype(np.float32) * ratio + 0.5, 0, max_value(out.dtype)).astype(out.dtype)
