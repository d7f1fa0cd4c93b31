"""Message plumbing of the llie nodes, ROS-free: message in, messages out, through injected classes and callbacks.

The per-camera work (gating, smoothing, statistics, frame loss) is llie_core.stream.StreamProcessor's; this module
decodes messages for it, runs the keep-latest intake, and builds the output messages. The rclpy nodes pass their
message classes and publishers in; tests pass rosbags classes and lists.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llie_core.bayer import RawFrame
from llie_core.imgmsg import (
    FrameError,
    array_to_compressed_fields,
    array_to_image_fields,
    convert_layout,
    decode_msg,
    stamp_ns,
)
from llie_core.params import ParamSpec, classes_value, validate_changes
from llie_core.stream import FrameStats, FrameWorker, StatsCounter, StreamFrame, StreamProcessor


def _stamp(msg: Any) -> int | None:
    """The message's header stamp in nanoseconds, or None when it has no readable one (a malformed message)."""
    try:
        return stamp_ns(msg.header)
    except (AttributeError, TypeError, ValueError):
        return None


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
    camera_info: Callable[[Any], None] | None = None  # passthrough of the input camera_info
    stats: Callable[[Any], None] | None = None
    detections: Callable[[Any], None] | None = None
    annotated: Callable[[Any], None] | None = None
    compressed_wanted: Callable[[], bool] = lambda: True
    annotated_wanted: Callable[[], bool] = lambda: True


class ModelHolder:
    """The running model; a swap builds the new one first and keeps the old one when that fails."""

    def __init__(
        self,
        factory: Callable[[Mapping[str, Any]], Any],
        keys: tuple[str, ...],
        check: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> None:
        self._factory = factory
        self._check = check
        self.keys = keys
        self.current: Any = None
        self.params: dict[str, Any] = {}
        self.generation = 0  # bumps on every swap, so smoothers can tell models apart
        self._lock = threading.Lock()

    def needs_reload(self, params: Mapping[str, Any]) -> bool:
        """True when ``params`` differ from the running model's in a key that needs a rebuild."""
        return self.current is None or any(params.get(k) != self.params.get(k) for k in self.keys)

    def check(self, params: Mapping[str, Any]) -> tuple[bool, str]:
        """What can be told of a model change without building it (a known name, files that exist)."""
        if self._check is None:
            return True, ""
        wanted = {k: params.get(k) for k in self.keys}
        try:
            self._check(wanted)
        except ValueError as exc:
            return False, f"cannot load model with {wanted}: {exc}"
        return True, ""

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


def plan_parameter_changes(
    values: Mapping[str, Any],
    changes: Mapping[str, Any],
    specs: tuple[ParamSpec, ...],
    holders: tuple[ModelHolder, ...],
    check: Callable[[Mapping[str, Any]], tuple[bool, str]] | None = None,
) -> tuple[bool, str, dict[str, Any], tuple[ModelHolder, ...]]:
    """Validate changed parameters without building anything: (ok, reason, merged values, holders to rebuild).

    Types and ranges, the cross-parameter ``check`` and each touched model's cheap checks (ModelHolder.check) run
    here, so that a parameter callback can answer at once; ModelRebuild builds what is left.
    """
    ok, reason = validate_changes(specs, changes)
    merged = {**values, **changes}
    if ok and check is not None:
        ok, reason = check(merged)
    stale = tuple(holder for holder in holders if holder.needs_reload(merged))
    for holder in stale:
        if ok:
            ok, reason = holder.check(merged)
    return ok, reason, merged, stale if ok else ()


def describe_changes(changes: Mapping[str, Any]) -> str:
    """'model=zero_dce_pp, backend=torch' for log lines and diagnostics."""
    return ", ".join(f"{name}={value}" for name, value in changes.items())


@dataclass
class RebuildResult:
    """How a model rebuild ended."""

    changes: dict[str, Any]  # the parameter changes it was for
    ok: bool
    reason: str
    seconds: float


class ModelRebuild:
    """Builds the models of a parameter change on its own thread and swaps them in together once all are warm.

    A parameter callback must answer at once, and a build takes 0.3-2.5 s (ONNX Runtime or torch set-up, kernel
    compilation, warm-up): built on the executor thread it froze the stream. Here the running models keep serving
    frames until every new one is built and warm; then all are committed (all or nothing) and ``on_done`` gets the
    outcome, on this thread. One rebuild runs at a time.
    """

    def __init__(self, on_done: Callable[[RebuildResult], None], clock: Callable[[], float] = time.monotonic) -> None:
        self._on_done, self._clock = on_done, clock
        self._thread: threading.Thread | None = None
        self.building = ""  # describe_changes of the rebuild in progress, "" when idle
        self.started = 0.0

    @property
    def busy(self) -> bool:
        """True while a rebuild is in progress."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, changes: Mapping[str, Any], merged: Mapping[str, Any], holders: tuple[ModelHolder, ...]) -> None:
        """Build ``holders``' models from ``merged`` in the background (``changes``: what was asked, for the report)."""
        if self.busy:
            raise RuntimeError(f"a rebuild is in progress ({self.building})")
        self.building, self.started = describe_changes(changes), self._clock()
        self._thread = threading.Thread(
            target=self._run, args=(dict(changes), dict(merged), holders), name="llie-model-build", daemon=True
        )
        self._thread.start()

    def progress(self) -> str:
        """'building model=zero_dce_pp for 0.4 s' while a rebuild runs, else ""."""
        building = self.building
        return f"building {building} for {self._clock() - self.started:.1f} s" if building else ""

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the rebuild in progress (if any); True once none is running."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.busy

    def _run(self, changes: dict[str, Any], merged: dict[str, Any], holders: tuple[ModelHolder, ...]) -> None:
        pending, ok, reason = [], True, ""
        for holder in holders:
            ok, reason, model = holder.prepare(merged)
            if not ok:
                break
            pending.append((holder, model))
        if ok:
            for holder, model in pending:
                holder.commit(model)
        result = RebuildResult(changes, ok, reason, self._clock() - self.started)
        self.building = ""
        self._on_done(result)


# Models are run once on a dark frame of this shape when they are built. A first call pays one-off costs
# (kernel compilation, ONNX Runtime / torch set-up: measured ~0.45 s for tiny_dce, ~1.5 s for a YOLO .pt on CPU);
# paid at load, they neither delay the first camera frames nor get the frames behind them dropped, and a model
# that builds but cannot run is rejected with its reason (the running one stays) like one that does not build.
WARMUP_SHAPE = (480, 640)
# Enhancers are warmed up in every (dtype, channels) layout a node hands them (llie_core.imgmsg's working layouts:
# 8-bit colour and mono, 16-bit mono, and 16-bit colour from a 16-bit PNG): the compiled kernels are specialised
# by dtype and dimensions, so each layout compiles on its first frame. With an empty numba cache the first mono16
# frame took 1.3 s for tiny_dce and 3.8 s for clahe on Debian 12's numba after an 8-bit colour warm-up.
WARMUP_LAYOUTS = ((np.uint8, 3), (np.uint8, 1), (np.uint16, 1), (np.uint16, 3))


def _warmup_frame(dtype: type = np.uint8, channels: int = 3) -> np.ndarray:
    """A dark frame of WARMUP_SHAPE in this layout."""
    shape = WARMUP_SHAPE + ((channels,) if channels > 1 else ())
    return np.full(shape, 16 * (257 if dtype == np.uint16 else 1), dtype)


def check_enhancer(params: Mapping[str, Any]) -> None:
    """The enhancer parameters' checks that need no build: a registered model, scale_factor on a network only,
    amplification on a RAW model only, a weights file that exists; ValueError with the reason."""
    from llie_core.registry import get_spec

    name = str(params["model"])
    spec = get_spec(name)  # an unknown name lists the valid ones
    if int(params.get("scale_factor") or 0) > 0 and not spec.is_network:
        raise ValueError(f"scale_factor applies to networks only; {name!r} is a classical method (set it to 0)")
    amplification = float(params.get("amplification") or 0.0)
    if amplification and spec.kind != "raw":
        raise ValueError(f"amplification applies to RAW models (llpacknet) only; {name!r} is not one (set it to 0)")
    if amplification and amplification < 1.0:
        raise ValueError(f"amplification must be >= 1 (0: metered on each frame), got {amplification}")
    weights = str(params.get("weights") or "")
    if weights not in ("", "reference") and not Path(weights).is_file():
        raise ValueError(f"weights file {weights!r} does not exist")


def enhancer_factory(params: Mapping[str, Any]) -> Any:
    """Build an enhancer from node parameters with llie_core.create_enhancer, warmed up in every layout."""
    from llie_core import create_enhancer  # lazy: the engine pulls in onnxruntime

    check_enhancer(params)
    options: dict[str, Any] = {}
    scale = int(params.get("scale_factor") or 0)
    if scale > 0:
        options["scale_factor"] = scale
    if float(params.get("amplification") or 0.0) > 0:
        options["amplification"] = float(params["amplification"])
    name = str(params["model"])
    enhancer = create_enhancer(
        name,
        backend=str(params.get("backend") or "auto"),
        weights=str(params["weights"]) if params.get("weights") else None,
        device=str(params.get("device") or "cpu"),
        **options,
    )
    if getattr(enhancer, "takes_raw", False):  # RAW models take the mosaics of bayer_*8 and bayer_*16 topics
        for dtype in (np.uint8, np.uint16):
            mosaic = _warmup_frame(dtype, 1)
            enhancer.enhance(RawFrame(mosaic, "RGGB", 0, int(np.iinfo(dtype).max)))
        return enhancer
    for dtype, channels in WARMUP_LAYOUTS:
        enhancer.enhance(_warmup_frame(dtype, channels))
    return enhancer


def check_detector(params: Mapping[str, Any]) -> None:
    """The detector parameters' checks that need no build: a model file that exists; ValueError with the reason."""
    model = str(params.get("model") or "")
    if not model:
        raise ValueError("parameter 'model' is empty: set it to a local YOLO model file (.pt, .onnx, .engine)")
    if not Path(model).exists():  # a TensorRT or OpenVINO export may be a folder
        raise ValueError(f"YOLO model {model!r} does not exist (nothing is downloaded: give a local file)")


def detector_factory(params: Mapping[str, Any]) -> Any:
    """Build a YOLO Detector from node parameters, warmed up (see WARMUP_SHAPE)."""
    from llie_core.detect import Detector

    check_detector(params)
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
        stats: StatsCounter | None = None,
    ) -> None:
        self.types, self.publish, self.clock = types, publish, clock
        self.stats = stats or StatsCounter(clock=clock)
        self._log_warning = log_warning or (lambda _msg: None)
        self._alive = alive
        self._worker: FrameWorker | None = None

    def start(self) -> FrameCore:
        """Process offered frames on a worker thread (keep-latest)."""
        self._worker = FrameWorker(self.handle, on_error=self._on_unexpected).start()
        return self

    def stop(self) -> None:
        """Stop the worker thread; a frame still waiting for it is dropped (counted), so the books balance."""
        if self._worker is not None and self._worker.stop():
            self.stats.on_dropped()

    def offer(self, msg: Any) -> None:
        """Subscription callback: count the frame and keep only the newest one waiting."""
        self.stats.on_received(_stamp(msg))
        item = (msg, self.clock())
        if self._worker is None:
            self.handle(item)  # synchronous mode (tests, single-threaded use)
        elif not self._worker.submit(item):
            self.stats.on_dropped()

    def on_camera_info(self, msg: Any) -> None:
        """camera_info callback: its stamp tells frames lost before the node; republished when there is an output."""
        stamp = _stamp(msg)
        if stamp is not None:
            self.stats.on_camera_info(stamp)
        if self.publish.camera_info is not None:
            self.publish.camera_info(msg)

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
    """The enhancer node's work: decode, run the stream processor, publish image (+compressed) and stats."""

    def __init__(self, processor: StreamProcessor, types: MsgTypes, publish: Publishers, **kw: Any) -> None:
        super().__init__(types, publish, stats=processor.stats, **kw)
        self.processor = processor

    def process(self, msg: Any, arrived: float) -> None:
        """Enhance one message and publish the results with its header."""
        array, work, source = decode_msg(msg, mosaic=True)  # the processor demosaics for all but RAW models
        frame = self.processor.process(array, work)
        self.publish_enhanced(frame, source, msg.header)
        self.publish_stats(self.processor.finish(frame, self.clock() - arrived), msg.header)

    def publish_enhanced(self, frame: StreamFrame, source_encoding: str, header: Any) -> None:
        """Publish the enhanced image and, when asked for and watched, its jpeg."""
        settings = self.processor.settings
        if self.publish.image is not None:
            out_encoding = settings.output_encoding_for(source_encoding)
            self.publish.image(self.image_msg(frame.array, frame.encoding, out_encoding, header))
        if (
            settings.publish_compressed
            and self.publish.compressed is not None
            and self.types.compressed
            and self.publish.compressed_wanted()
        ):
            self.publish.compressed(self.compressed_msg(frame.array, frame.encoding, header, settings.jpeg_quality))

    def publish_stats(self, stats: FrameStats, header: Any) -> None:
        """Publish an EnhancementStats message for this frame."""
        if self.publish.stats is None or self.types.stats is None:
            return
        fields = stats.fields()
        fields["curve_mean"] = self.types.float_array(fields["curve_mean"])
        self.publish.stats(self.types.stats(header=header, **fields))


class DetectorCore(FrameCore):
    """The detector node's work: decode, detect, publish Detection2DArray (always) and annotated (if watched)."""

    def __init__(self, holder: ModelHolder, types: MsgTypes, publish: Publishers, **kw: Any) -> None:
        super().__init__(types, publish, **kw)
        self.holder = holder

    def process(self, msg: Any, arrived: float) -> None:
        """Detect on one message and publish with its header."""
        array, work, _ = decode_msg(msg)
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
        self, processor: StreamProcessor, detector: ModelHolder, types: MsgTypes, publish: Publishers, **kw: Any
    ) -> None:
        super().__init__(processor, types, publish, **kw)
        self.detector = DetectorCore(detector, types, publish, clock=self.clock)

    def process(self, msg: Any, arrived: float) -> None:
        """Enhance, publish, detect on the enhanced array, publish detections; stats with the whole latency."""
        array, work, source = decode_msg(msg, mosaic=True)
        frame = self.processor.process(array, work)
        self.publish_enhanced(frame, source, msg.header)
        self.detector.detect_and_publish(to_bgr8(frame.array, frame.encoding), msg.header)
        self.publish_stats(self.processor.finish(frame, self.clock() - arrived), msg.header)
