"""Frame processing of the llie nodes, ROS-free: message in, messages out, through injected classes and callbacks.

The rclpy nodes pass their message classes and publishers in; tests pass rosbags classes and lists.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llie_core.imgmsg import (
    FrameError,
    array_to_compressed_fields,
    array_to_image_fields,
    compressed_msg_to_array,
    convert_layout,
    image_msg_to_array,
    mean_luminance,
)
from llie_ros.logic import CurveSmoother, FrameGate, FrameWorker, GainSmoother, StatsCounter
from llie_ros.params import ParamSpec, classes_value, validate_changes

# Encodings written back as they came in; the rest (yuv422, bayer) are published as bgr8 after conversion,
# because re-packing an enhanced frame into 4:2:2 or a mosaic would throw colour away for every consumer.
PASSTHROUGH_ENCODINGS = frozenset({"rgb8", "bgr8", "rgba8", "bgra8", "mono8", "mono16", "16UC1", "8UC1", "8UC3"})


def default_output_encoding(source_encoding: str) -> str:
    """The encoding published for an input in ``source_encoding`` when output_encoding is empty."""
    return source_encoding if source_encoding in PASSTHROUGH_ENCODINGS else "bgr8"


def decode_frame(msg: Any) -> tuple[np.ndarray, str, str]:
    """(array, working encoding, source encoding) of an Image or CompressedImage (told apart by ``format``)."""
    if hasattr(msg, "format") and not hasattr(msg, "encoding"):
        array, encoding = compressed_msg_to_array(msg)
        return array, encoding, encoding
    array, encoding = image_msg_to_array(msg)
    return array, encoding, str(msg.encoding)


def to_bgr8(array: np.ndarray, encoding: str) -> np.ndarray:
    """The frame as BGR uint8 for the detector."""
    return convert_layout(array, encoding, "bgr8")


def _identity(x: Any) -> Any:
    return x


def _float32_array(values: list[float]) -> Any:
    return np.asarray(values, dtype=np.float32)


@dataclass
class MsgTypes:
    """Message classes and payload factories of one ROS client library (rclpy or rosbags)."""

    image: type
    compressed: type | None = None
    stats: type | None = None
    resolve: Callable[[str], type] | None = None  # full name -> class, for vision_msgs
    data_factory: Callable[[np.ndarray], Any] = _identity  # flat uint8 payload -> the data field's type
    float_array: Callable[[list[float]], Any] = _float32_array  # float32[] field value


@dataclass
class Publishers:
    """Where outputs go. ``*_wanted`` say whether anyone listens, so unwatched outputs cost nothing."""

    image: Callable[[Any], None] | None = None
    compressed: Callable[[Any], None] | None = None
    stats: Callable[[Any], None] | None = None
    detections: Callable[[Any], None] | None = None
    annotated: Callable[[Any], None] | None = None
    compressed_wanted: Callable[[], bool] = lambda: True
    annotated_wanted: Callable[[], bool] = lambda: True


class ModelHolder:
    """The running model; a swap builds the new one first and keeps the old one when that fails."""

    def __init__(self, factory: Callable[[Mapping[str, Any]], Any], keys: tuple[str, ...]) -> None:
        self._factory = factory
        self.keys = keys
        self.current: Any = None
        self.params: dict[str, Any] = {}
        self.generation = 0  # bumps on every swap, so smoothers can tell models apart
        self._lock = threading.Lock()

    def needs_reload(self, params: Mapping[str, Any]) -> bool:
        """True when ``params`` differ from the running model's in a key that needs a rebuild."""
        return self.current is None or any(params.get(k) != self.params.get(k) for k in self.keys)

    def prepare(self, params: Mapping[str, Any]) -> tuple[bool, str, Any]:
        """Build a model from ``params`` without swapping: (True, "", pending) or (False, reason, None)."""
        wanted = {k: params.get(k) for k in self.keys}
        try:
            model = self._factory(wanted)
        except Exception as exc:  # any build failure is a rejection reason, never a crash
            return False, f"cannot load model with {wanted}: {type(exc).__name__}: {exc}", None
        return True, "", (model, wanted)

    def commit(self, pending: tuple[Any, dict[str, Any]]) -> None:
        """Swap in a model built by prepare(); frames in flight finish with the old one."""
        with self._lock:
            self.current, self.params = pending
            self.generation += 1

    def load(self, params: Mapping[str, Any]) -> tuple[bool, str]:
        """Build a model from ``params`` and swap it in: (True, "") or (False, reason) with the old one kept."""
        ok, reason, pending = self.prepare(params)
        if ok:
            self.commit(pending)
        return ok, reason


def apply_parameter_changes(
    values: Mapping[str, Any],
    changes: Mapping[str, Any],
    specs: tuple[ParamSpec, ...],
    holders: tuple[ModelHolder, ...],
    check: Callable[[Mapping[str, Any]], tuple[bool, str]] | None = None,
) -> tuple[bool, str, dict[str, Any]]:
    """Validate changed parameters and rebuild every model they touch, all or nothing: (ok, reason, merged values).

    Every model that needs a rebuild is built before any is swapped in, so a bad value leaves all of them running.
    """
    ok, reason = validate_changes(specs, changes)
    merged = {**values, **changes}
    if ok and check is not None:
        ok, reason = check(merged)
    pending = []
    for holder in holders:
        if ok and holder.needs_reload(merged):
            ok, reason, model = holder.prepare(merged)
            pending.append((holder, model))
    if ok:
        for holder, model in pending:
            holder.commit(model)
    return ok, reason, merged


# Models are run once on a dark frame of this shape when they are built. A first call pays one-off costs
# (kernel compilation, ONNX Runtime / torch set-up: measured ~0.45 s for tiny_dce, ~1.5 s for a YOLO .pt on CPU);
# paid at load, they neither delay the first camera frames nor get the frames behind them dropped, and a model
# that builds but cannot run is rejected with its reason (the running one stays) like one that does not build.
WARMUP_SHAPE = (480, 640, 3)


def _warmup_frame() -> np.ndarray:
    return np.full(WARMUP_SHAPE, 16, np.uint8)


def enhancer_factory(params: Mapping[str, Any]) -> Any:
    """Build an enhancer from node parameters with llie_core.create_enhancer, warmed up (see WARMUP_SHAPE)."""
    from llie_core import create_enhancer  # lazy: the engine pulls in onnxruntime
    from llie_core.registry import get_spec

    name = str(params["model"])
    options: dict[str, Any] = {}
    scale = int(params.get("scale_factor") or 0)
    if scale > 0:
        if get_spec(name).kind != "curve":
            raise ValueError(f"scale_factor applies to curve models only; {name!r} is not one (set it to 0)")
        options["scale_factor"] = scale
    enhancer = create_enhancer(
        name,
        backend=str(params.get("backend") or "auto"),
        weights=str(params["weights"]) if params.get("weights") else None,
        device=str(params.get("device") or "cpu"),
        **options,
    )
    enhancer.enhance(_warmup_frame())
    return enhancer


def detector_factory(params: Mapping[str, Any]) -> Any:
    """Build a YOLO Detector from node parameters, warmed up (see WARMUP_SHAPE)."""
    from llie_core.detect import Detector

    if not params.get("model"):
        raise ValueError("parameter 'model' is empty: set it to a local YOLO model file (.pt, .onnx, .engine)")
    detector = Detector(
        params["model"],
        conf=float(params.get("conf", 0.25)),
        iou=float(params.get("iou", 0.45)),
        imgsz=int(params.get("imgsz", 640)),
        classes=classes_value(list(params.get("classes") or [])),
        device=str(params.get("device", "cpu")),
        half=bool(params.get("half", False)),
    )
    detector.detect(_warmup_frame())
    return detector


@dataclass
class EnhanceSettings:
    """Per-frame behaviour of the enhancer that changes without rebuilding the model."""

    enabled: bool = True
    auto_gate: bool = True
    gate_threshold: float = 0.4
    gate_hysteresis: float = 0.05
    smoothing: float = 0.6
    output_encoding: str = ""
    publish_compressed: bool = False
    jpeg_quality: int = 85

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EnhanceSettings:
        """Settings from a parameter mapping (missing names keep their defaults)."""
        names = cls.__dataclass_fields__
        return cls(**{k: params[k] for k in names if k in params})


@dataclass
class EnhanceResult:
    """One processed frame and what was done to it."""

    array: np.ndarray
    encoding: str  # working encoding of ``array``
    input_luminance: float
    output_luminance: float
    gated: bool
    enhanced: bool
    curve_mean: list[float] = field(default_factory=list)

    @property
    def gain(self) -> float:
        """Output over input mean luminance (1.0 for black frames)."""
        return self.output_luminance / self.input_luminance if self.input_luminance > 1e-6 else 1.0


class EnhanceProcessor:
    """Gating, enhancement and temporal smoothing of decoded frames."""

    def __init__(self, holder: ModelHolder, settings: EnhanceSettings | None = None) -> None:
        self.holder = holder
        self.gate = FrameGate()
        self.curves = CurveSmoother()
        self.gain = GainSmoother()
        self.configure(settings or EnhanceSettings())

    def configure(self, settings: EnhanceSettings) -> None:
        """Apply new settings; smoothing restarts when its weight changes."""
        self.gate.configure(settings.gate_threshold, settings.gate_hysteresis, settings.auto_gate)
        if self.curves.alpha != settings.smoothing:
            self.curves.alpha = self.gain.alpha = float(settings.smoothing)
            self.curves.reset()
            self.gain.reset()
        self.settings = settings

    def process(self, array: np.ndarray, encoding: str) -> EnhanceResult:
        """Enhance one frame (unless bypassed or gated) and report luminances."""
        lum_in = mean_luminance(array, encoding)
        enhancer = self.holder.current
        if not self.settings.enabled or enhancer is None:
            return EnhanceResult(array, encoding, lum_in, lum_in, gated=False, enhanced=False)
        if not self.gate.should_enhance(lum_in):
            # Bright frame: pass through, and start smoothing afresh when enhancement resumes.
            self.curves.reset()
            self.gain.reset()
            return EnhanceResult(array, encoding, lum_in, lum_in, gated=True, enhanced=False)
        rgb = encoding == "rgb8"
        key = (self.holder.generation, array.shape)
        curve_mean: list[float] = []
        smoothing = self.settings.smoothing > 0
        if smoothing and getattr(enhancer, "kind", "") == "curve" and hasattr(enhancer, "estimate_curves"):
            curves = self.curves.update(enhancer.estimate_curves(array, rgb=rgb), key=key)
            out = enhancer.apply_curves(array, curves, rgb=rgb)
            curve_mean = [float(v) for v in curves.reshape(-1, curves.shape[-1]).mean(axis=0)]
        else:
            out = enhancer.enhance(array, rgb=rgb)
            if smoothing:
                out = self._smooth_gain(array, out, encoding, lum_in, key)
        return EnhanceResult(
            out, encoding, lum_in, mean_luminance(out, encoding), gated=False, enhanced=True, curve_mean=curve_mean
        )

    def _smooth_gain(self, src: np.ndarray, out: np.ndarray, encoding: str, lum_in: float, key: Any) -> np.ndarray:
        # Methods without curve maps: scale each output so its global gain follows the smoothed gain.
        lum_out = mean_luminance(out, encoding)
        if lum_in <= 1e-4 or lum_out <= 1e-4:
            return out
        gain = lum_out / lum_in
        target = self.gain.update(gain, key=key)
        ratio = target / gain
        if abs(ratio - 1.0) < 1e-3:
            return out
        top = 65535.0 if out.dtype == np.uint16 else 255.0
        return np.clip(out.astype(np.float32) * ratio + 0.5, 0, top).astype(out.dtype)


class FrameCore:
    """Keep-latest intake, failure accounting and the worker thread shared by the three nodes."""

    def __init__(
        self,
        types: MsgTypes,
        publish: Publishers,
        *,
        clock: Callable[[], float] = time.monotonic,
        log_warning: Callable[[str], None] | None = None,
        alive: Callable[[], bool] = lambda: True,
    ) -> None:
        self.types, self.publish, self.clock = types, publish, clock
        self.stats = StatsCounter(clock=clock)
        self._log_warning = log_warning or (lambda _msg: None)
        self._alive = alive
        self._worker: FrameWorker | None = None

    def start(self) -> FrameCore:
        """Process offered frames on a worker thread (keep-latest)."""
        self._worker = FrameWorker(self.handle, on_error=self._on_unexpected).start()
        return self

    def stop(self) -> None:
        """Stop the worker thread."""
        if self._worker is not None:
            self._worker.stop()

    def offer(self, msg: Any) -> None:
        """Subscription callback: count the frame and keep only the newest one waiting."""
        self.stats.on_received()
        item = (msg, self.clock())
        if self._worker is None:
            self.handle(item)  # synchronous mode (tests, single-threaded use)
        elif not self._worker.submit(item):
            self.stats.on_dropped()

    def handle(self, item: tuple[Any, float]) -> None:
        """Process one (message, arrival time); failures are counted and logged once per reason."""
        msg, arrived = item
        try:
            self.process(msg, arrived)
        except FrameError as exc:
            self.fail(str(exc))
        except Exception as exc:  # a model or conversion bug must not kill the node
            if not self._alive():
                return  # Ctrl-C shut ROS down under a frame in flight: its publish failing is no fault of the frame
            self.fail(f"{type(exc).__name__}: {exc}")

    def process(self, msg: Any, arrived: float) -> None:
        """Subclasses: convert, compute and publish."""
        raise NotImplementedError

    def fail(self, reason: str) -> None:
        """Count a failed frame; log the reason the first time it occurs."""
        if self.stats.on_failed(reason):
            self._log_warning(f"dropping frame: {reason} (logged once; counted in ~/stats and /diagnostics)")

    def _on_unexpected(self, exc: BaseException) -> None:
        self.fail(f"{type(exc).__name__}: {exc}")

    def image_msg(self, array: np.ndarray, work_encoding: str, out_encoding: str, header: Any) -> Any:
        """An Image message in ``out_encoding`` with the input header."""
        fields = array_to_image_fields(
            array, out_encoding, header, src_encoding=work_encoding, data_factory=self.types.data_factory
        )
        return self.types.image(**fields)

    def compressed_msg(self, array: np.ndarray, work_encoding: str, header: Any, quality: int) -> Any:
        """A jpeg CompressedImage (png for 16-bit frames) with the input header."""
        fmt = "png" if array.dtype == np.uint16 else "jpeg"
        fields = array_to_compressed_fields(
            array, work_encoding, header, fmt=fmt, quality=quality, data_factory=self.types.data_factory
        )
        return self.types.compressed(**fields)


class EnhancerCore(FrameCore):
    """The enhancer node's work: decode, gate/enhance/smooth, publish image (+compressed) and stats."""

    def __init__(self, processor: EnhanceProcessor, types: MsgTypes, publish: Publishers, **kw: Any) -> None:
        super().__init__(types, publish, **kw)
        self.processor = processor

    def process(self, msg: Any, arrived: float) -> None:
        """Enhance one message and publish the results with its header."""
        array, work, source = decode_frame(msg)
        result = self.processor.process(array, work)
        self.publish_enhanced(result, source, msg.header)
        latency = self.clock() - arrived
        self.stats.on_processed(latency, gated=result.gated)
        self.publish_stats(result, msg.header, latency)

    def publish_enhanced(self, result: EnhanceResult, source_encoding: str, header: Any) -> None:
        """Publish the enhanced image and, when asked for and watched, its jpeg."""
        settings = self.processor.settings
        out_encoding = settings.output_encoding or default_output_encoding(source_encoding)
        if self.publish.image is not None:
            self.publish.image(self.image_msg(result.array, result.encoding, out_encoding, header))
        if (
            settings.publish_compressed
            and self.publish.compressed is not None
            and self.types.compressed
            and self.publish.compressed_wanted()
        ):
            self.publish.compressed(self.compressed_msg(result.array, result.encoding, header, settings.jpeg_quality))

    def publish_stats(self, result: EnhanceResult, header: Any, latency_s: float) -> None:
        """Publish an EnhancementStats message for this frame."""
        if self.publish.stats is None or self.types.stats is None:
            return
        self.publish.stats(self.types.stats(**self.stats_fields(result, header, latency_s)))

    def stats_fields(self, result: EnhanceResult, header: Any, latency_s: float) -> dict[str, Any]:
        """Fields of llie/msg/EnhancementStats for one frame."""
        snap = self.stats.snapshot()
        enhancer = self.processor.holder.current
        return {
            "header": header,
            "model": str(getattr(enhancer, "name", "") or self.processor.holder.params.get("model", "")),
            "backend": str(getattr(enhancer, "backend", "")),
            "enabled": bool(self.processor.settings.enabled),
            "gated": bool(result.gated),
            "input_mean_luminance": float(result.input_luminance),
            "output_mean_luminance": float(result.output_luminance),
            "applied_gain": float(result.gain),
            "curve_mean": self.types.float_array(result.curve_mean),
            "latency_ms": float(latency_s * 1e3),
            "frames_received": snap.received,
            "frames_processed": snap.processed,
            "frames_dropped": snap.dropped,
            "frames_failed": snap.failed,
            "frames_gated": snap.gated,
            "last_error": snap.last_error,
        }


class DetectorCore(FrameCore):
    """The detector node's work: decode, detect, publish Detection2DArray (always) and annotated (if watched)."""

    def __init__(self, holder: ModelHolder, types: MsgTypes, publish: Publishers, **kw: Any) -> None:
        super().__init__(types, publish, **kw)
        self.holder = holder

    def process(self, msg: Any, arrived: float) -> None:
        """Detect on one message and publish with its header."""
        array, work, _ = decode_frame(msg)
        self.detect_and_publish(to_bgr8(array, work), msg.header)
        self.stats.on_processed(self.clock() - arrived)

    def detect_and_publish(self, bgr: np.ndarray, header: Any) -> list[Any]:
        """Run the detector on a BGR frame, publish detections (empty array when none) and the annotated frame."""
        from llie_core.detect import detection2d_array_fields

        detector = self.holder.current
        if detector is None:
            raise RuntimeError("no detector loaded")
        detections = detector.detect(bgr)
        if self.publish.detections is not None and self.types.resolve is not None:
            cls = self.types.resolve("vision_msgs/msg/Detection2DArray")
            self.publish.detections(cls(**detection2d_array_fields(detections, header, self.types.resolve)))
        if self.publish.annotated is not None and self.publish.annotated_wanted():
            self.publish.annotated(self.image_msg(detector.annotate(bgr, detections), "bgr8", "bgr8", header))
        return detections


class PipelineCore(EnhancerCore):
    """Enhancement then detection on the same decoded frame, in one node."""

    def __init__(
        self, processor: EnhanceProcessor, detector: ModelHolder, types: MsgTypes, publish: Publishers, **kw: Any
    ) -> None:
        super().__init__(processor, types, publish, **kw)
        self.detector = DetectorCore(detector, types, publish, clock=self.clock)

    def process(self, msg: Any, arrived: float) -> None:
        """Enhance, publish, detect on the enhanced array, publish detections; stats with the whole latency."""
        array, work, source = decode_frame(msg)
        result = self.processor.process(array, work)
        self.publish_enhanced(result, source, msg.header)
        self.detector.detect_and_publish(to_bgr8(result.array, result.encoding), msg.header)
        latency = self.clock() - arrived
        self.stats.on_processed(latency, gated=result.gated)
        self.publish_stats(result, msg.header, latency)
