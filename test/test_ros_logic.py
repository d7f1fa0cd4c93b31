"""Node logic without ROS: keep-latest, parameters, the stream processor behind the message path end to end."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from llie_core.detect import Detection
from llie_core.imgmsg import array_to_image_fields, default_output_encoding, image_msg_to_array, mean_luminance
from llie_core.params import (
    DETECTOR_PARAMS,
    ENHANCER_BUILD_KEYS,
    ENHANCER_PARAMS,
    QOS_PARAMS,
    check_gate,
    classes_value,
    pipeline_params,
    validate_changes,
)
from llie_core.stream import DIAG_WARN, FrameWorker, LatestSlot, StreamProcessor, StreamSettings
from llie_ros.processing import (
    DetectorCore,
    EnhancerCore,
    ModelHolder,
    ModelRebuild,
    MsgTypes,
    PipelineCore,
    Publishers,
    RebuildResult,
    check_detector,
    check_enhancer,
    plan_parameter_changes,
)

# ---------------------------------------------------------------- stand-ins for the engine and the detector


class FakeCurveEnhancer:
    """Same surface as a llie_core curve enhancer: the curve is a brightness gain derived from the frame."""

    kind = "network"

    def __init__(self, name: str = "tiny_dce", strength: float = 1.0) -> None:
        self.name, self.backend, self.strength = name, "numpy", strength
        self.calls: list[str] = []

    def estimate(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        self.calls.append(f"estimate rgb={rgb}")
        top = 65535.0 if frame.dtype == np.uint16 else 255.0
        level = 1.0 - float(frame.mean()) / top  # darker frame -> stronger curve
        return np.full((4, 4, 3), self.strength * level, np.float32)

    def apply(self, frame: np.ndarray, curves: np.ndarray, rgb: bool = False) -> np.ndarray:
        top = 65535.0 if frame.dtype == np.uint16 else 255.0
        gain = 1.0 + float(curves.mean())
        return np.clip(frame.astype(np.float32) * gain, 0, top).astype(frame.dtype)

    def enhance(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        self.calls.append(f"enhance rgb={rgb}")
        return self.apply(frame, self.estimate(frame, rgb), rgb)


class FakeClassical:
    """A classical method: a per-frame gain with no curve maps."""

    kind = "classical"
    name, backend = "gamma", "numpy"

    def __init__(self) -> None:
        self.gains = iter([])

    def enhance(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        return np.clip(frame.astype(np.float32) * next(self.gains), 0, 255).astype(np.uint8)


class FakeDetector:
    """A detector that finds one box on bright frames and nothing on black ones."""

    names = {0: "person"}

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        self.seen.append(bgr)
        return [Detection(0, "person", 0.8, 1.0, 1.0, 5.0, 4.0)] if bgr.mean() > 5 else []

    @staticmethod
    def annotate(bgr: np.ndarray, detections: list[Detection]) -> np.ndarray:
        out = bgr.copy()
        out[0, 0] = 255
        return out


# ---------------------------------------------------------------- real message classes (rosbags)


@pytest.fixture(scope="module")
def store() -> Any:
    pytest.importorskip("rosbags.typesys", reason="rosbags provides the real ROS 2 message classes")
    import rosbags_types

    return rosbags_types.register_llie(rosbags_types.typestore())


@pytest.fixture()
def types(store: Any) -> MsgTypes:
    return MsgTypes(
        image=store.types["sensor_msgs/msg/Image"],
        compressed=store.types["sensor_msgs/msg/CompressedImage"],
        stats=store.types["llie/msg/EnhancementStats"],
        resolve=store.types.__getitem__,
    )


def header(store: Any, sec: int = 42) -> Any:
    import rosbags_types

    return rosbags_types.header(store, sec=sec, nanosec=7, frame_id="front_optical")


def image(store: Any, array: np.ndarray, encoding: str = "bgr8", sec: int = 42, src: str | None = None) -> Any:
    return store.types["sensor_msgs/msg/Image"](
        **array_to_image_fields(array, encoding, header(store, sec), src_encoding=src)
    )


class Sink:
    """Publishers that record what was published."""

    def __init__(self, compressed: bool = True, annotated: bool = True) -> None:
        self.out: dict[str, list[Any]] = {k: [] for k in ("image", "compressed", "stats", "detections", "annotated")}
        self.publishers = Publishers(
            image=self.out["image"].append,
            compressed=self.out["compressed"].append,
            stats=self.out["stats"].append,
            detections=self.out["detections"].append,
            annotated=self.out["annotated"].append,
            compressed_wanted=lambda: compressed,
            annotated_wanted=lambda: annotated,
        )


def holder_with(model: Any, keys: tuple[str, ...] = ENHANCER_BUILD_KEYS) -> ModelHolder:
    holder = ModelHolder(lambda params: model, keys)
    assert holder.load({"model": getattr(model, "name", "m")}) == (True, "")
    return holder


DARK = np.full((8, 8, 3), 40, np.uint8)

# ---------------------------------------------------------------- logic classes


def test_mean_luminance_weights_and_layouts() -> None:
    red = np.zeros((4, 4, 3), np.uint8)
    red[:, :, 2] = 255
    assert mean_luminance(red, "bgr8", stride=1) == pytest.approx(0.299)
    assert mean_luminance(red, "rgb8", stride=1) == pytest.approx(0.114)
    assert mean_luminance(np.full((4, 4), 65535, np.uint16), "mono16") == pytest.approx(1.0)


def test_latest_slot_keeps_newest_and_counts_drops() -> None:
    slot: LatestSlot[int] = LatestSlot()
    assert slot.put(1) is None
    assert slot.put(2) == 1
    assert slot.put(3) == 2
    assert slot.dropped == 2 and slot.take(timeout=0) == 3
    assert slot.take(timeout=0) is None
    waiter = threading.Thread(target=lambda: slot.take())
    waiter.start()
    slot.close()
    waiter.join(5)
    assert not waiter.is_alive() and slot.take() is None


def test_frame_worker_drops_stale_frames_while_busy() -> None:
    started, release, done = threading.Event(), threading.Event(), threading.Event()
    handled: list[int] = []
    errors: list[str] = []

    def handler(item: int) -> None:
        handled.append(item)
        if item == 1:
            started.set()
            release.wait(5)
        if item == 4:
            raise RuntimeError("boom")
        if item == 5:
            done.set()

    worker = FrameWorker(handler, on_error=lambda e: errors.append(str(e))).start()
    assert worker.submit(1)
    assert started.wait(5)
    assert worker.submit(2) and not worker.submit(3)  # 2 is replaced by 3 while 1 is being handled
    release.set()
    while len(handled) < 2:
        release.wait(0.01)
    assert worker.submit(4)
    while len(handled) < 3:
        release.wait(0.01)
    assert worker.submit(5)  # the worker survived the exception of item 4
    assert done.wait(5)
    worker.stop()
    assert handled == [1, 3, 4, 5] and worker.slot.dropped == 1 and errors == ["boom"]


def test_frame_worker_stop_reports_a_frame_left_waiting() -> None:
    started = threading.Event()
    worker: FrameWorker

    def handler(item: int) -> None:
        started.set()
        while item == 1 and not worker.slot.closed:  # busy until the stop, so item 2 is still waiting then
            time.sleep(0.001)

    worker = FrameWorker(handler).start()
    worker.submit(1)
    assert started.wait(5)
    worker.submit(2)
    assert worker.stop() is True
    idle = FrameWorker(handler).start()
    assert idle.stop() is False


def test_parameter_validation() -> None:
    specs = ENHANCER_PARAMS + QOS_PARAMS
    assert validate_changes(specs, {"gate_threshold": 0.3, "model": "zero_dce", "scale_factor": 4}) == (True, "")
    cases = {
        "gate_threshold": (1.5, "outside range"),
        "smoothing": ("high", "expected float"),
        "enabled": (1, "expected bool"),
        "backend": ("tensorrt", "is not one of"),
        "output_encoding": ("nv12", "is not one of"),
        "qos_depth": (3, "read-only"),
        "nope": (1, "unknown parameter"),
    }
    for name, (value, needle) in cases.items():
        ok, reason = validate_changes(specs, {name: value})
        assert not ok and needle in reason and name in reason, (name, reason)
    assert check_gate({"gate_threshold": 0.2, "gate_hysteresis": 0.3})[0] is False
    assert validate_changes(DETECTOR_PARAMS, {"classes": [0, 2], "imgsz": 320})[0]
    assert not validate_changes(DETECTOR_PARAMS, {"imgsz": 16})[0]
    assert classes_value([-1]) is None and classes_value([2, 0]) == [2, 0]
    names = [p.name for p in pipeline_params()]
    assert "detector.model" in names and "model" in names and len(names) == len(set(names))


def test_model_holder_keeps_old_model_on_failure() -> None:
    built: list[dict] = []

    def factory(params: dict) -> FakeCurveEnhancer:
        if params["model"] == "missing":
            raise ValueError("unknown model 'missing'; valid names: tiny_dce, zero_dce")
        built.append(params)
        return FakeCurveEnhancer(params["model"])

    holder = ModelHolder(factory, ENHANCER_BUILD_KEYS)
    assert holder.load({"model": "tiny_dce"}) == (True, "")
    first = holder.current
    ok, reason = holder.load({"model": "missing"})
    assert not ok and "unknown model 'missing'" in reason and holder.current is first and holder.generation == 1
    assert holder.needs_reload({"model": "zero_dce"}) and not holder.needs_reload({"model": "tiny_dce"})
    assert holder.load({"model": "zero_dce"})[0] and holder.current.name == "zero_dce" and holder.generation == 2


# ---------------------------------------------------------------- processing


def test_processor_bypass_gate_and_enhance() -> None:
    enh = FakeCurveEnhancer()
    proc = StreamProcessor(holder_with(enh), StreamSettings(smoothing=0.0, gate_threshold=0.5))
    dark = proc.process(DARK, "bgr8")
    assert dark.enhanced and dark.gain > 1.5 and dark.output_luminance > dark.input_luminance
    bright = proc.process(np.full((8, 8, 3), 200, np.uint8), "bgr8")
    assert bright.gated and not bright.enhanced and bright.gain == 1.0
    proc.configure(StreamSettings(enabled=False))
    off = proc.process(DARK, "bgr8")
    assert off.array is DARK and not off.enhanced and not off.gated
    proc.configure(StreamSettings(smoothing=0.0))
    proc.process(DARK[:, :, ::-1].copy(), "rgb8")
    assert enh.calls[-2:] == ["enhance rgb=True", "estimate rgb=True"]


def test_curve_smoothing_removes_flicker() -> None:
    # Alternating dark/darker frames: without smoothing the applied curve jumps every frame.
    frames = [np.full((8, 8, 3), v, np.uint8) for v in (20, 60) * 10]

    def curve_series(alpha: float) -> np.ndarray:
        proc = StreamProcessor(holder_with(FakeCurveEnhancer()), StreamSettings(smoothing=alpha, auto_gate=False))
        results = [proc.process(f, "bgr8") for f in frames]
        if alpha == 0:
            return np.array([r.gain for r in results])
        return np.array([r.curve_mean[0] for r in results])

    raw = np.abs(np.diff([1.0 - f.mean() / 255 for f in frames]))[5:].mean()
    smoothed = np.abs(np.diff(curve_series(0.8)))[5:].mean()
    assert smoothed < 0.2 * raw


def test_gain_smoothing_for_classical_methods() -> None:
    enh = FakeClassical()
    enh.gains = iter([2.0, 4.0, 2.0, 4.0])
    proc = StreamProcessor(holder_with(enh), StreamSettings(smoothing=0.5, auto_gate=False))
    gains = [proc.process(DARK, "bgr8").gain for _ in range(4)]
    assert gains == pytest.approx([2.0, 3.0, 2.5, 3.25], abs=0.03)


def test_default_output_encodings() -> None:
    assert default_output_encoding("rgba8") == "rgba8" and default_output_encoding("mono16") == "mono16"
    assert default_output_encoding("yuv422") == "bgr8" and default_output_encoding("bayer_rggb8") == "bgr8"


# ---------------------------------------------------------------- message path with the real message classes


def make_core(types: MsgTypes, sink: Sink, **settings: Any) -> tuple[EnhancerCore, FakeCurveEnhancer]:
    enh = FakeCurveEnhancer()
    warnings: list[str] = []
    core = EnhancerCore(
        StreamProcessor(holder_with(enh), StreamSettings(**settings)),
        types,
        sink.publishers,
        log_warning=warnings.append,
    )
    core.warnings = warnings  # type: ignore[attr-defined]
    return core, enh


def test_enhancer_core_publishes_image_and_stats_with_input_header(store: Any, types: MsgTypes) -> None:
    sink = Sink()
    core, _ = make_core(types, sink, smoothing=0.5, publish_compressed=True)
    core.offer(image(store, DARK, sec=42))
    (img,), (stats,), (jpeg,) = sink.out["image"], sink.out["stats"], sink.out["compressed"]
    for msg in (img, stats, jpeg):
        assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (42, 7, "front_optical")
    out, enc = image_msg_to_array(img)
    assert img.encoding == "bgr8" and enc == "bgr8" and out.mean() > DARK.mean() * 1.5
    assert stats.model == "tiny_dce" and stats.backend == "numpy" and stats.enabled and not stats.gated
    assert stats.frames_received == 1 and stats.frames_processed == 1 and stats.frames_failed == 0
    assert stats.applied_gain > 1.5 and len(stats.curve_mean) == 3 and stats.latency_ms >= 0
    assert jpeg.format == "bgr8; jpeg compressed bgr8"
    # The stats message is a valid llie/msg/EnhancementStats for the CDR serializer.
    back = store.deserialize_cdr(store.serialize_cdr(stats, "llie/msg/EnhancementStats"), "llie/msg/EnhancementStats")
    assert back.frames_processed == 1 and back.model == "tiny_dce"


def test_compressed_output_only_when_watched(store: Any, types: MsgTypes) -> None:
    sink = Sink(compressed=False)
    core, _ = make_core(types, sink, publish_compressed=True)
    core.offer(image(store, DARK))
    assert len(sink.out["image"]) == 1 and sink.out["compressed"] == []


@pytest.mark.parametrize(
    ("encoding", "published"),
    [
        ("rgb8", "rgb8"),
        ("rgba8", "rgba8"),
        ("mono8", "mono8"),
        ("mono16", "mono16"),
        ("16UC1", "16UC1"),
        ("yuv422", "bgr8"),
        ("yuv422_yuy2", "bgr8"),
        ("bayer_grbg8", "bgr8"),
    ],
)
def test_encodings_in_and_out(store: Any, types: MsgTypes, encoding: str, published: str) -> None:
    sink = Sink()
    core, _ = make_core(types, sink, auto_gate=False)
    core.offer(image(store, DARK, encoding, src="bgr8"))
    (img,) = sink.out["image"]
    assert img.encoding == published and (img.height, img.width) == (8, 8) and img.header.stamp.sec == 42
    assert core.stats.failed == 0


def test_output_encoding_parameter(store: Any, types: MsgTypes) -> None:
    sink = Sink()
    core, _ = make_core(types, sink, output_encoding="mono8")
    core.offer(image(store, DARK))
    assert sink.out["image"][0].encoding == "mono8" and sink.out["image"][0].step == 8


def test_compressed_input(store: Any, types: MsgTypes) -> None:
    from llie_core.imgmsg import array_to_compressed_fields

    sink = Sink()
    core, _ = make_core(types, sink)
    msg = store.types["sensor_msgs/msg/CompressedImage"](
        **array_to_compressed_fields(DARK, "rgb8", header(store, sec=9), fmt="png")
    )
    core.offer(msg)
    (img,) = sink.out["image"]
    assert img.encoding == "rgb8" and img.header.stamp.sec == 9


def test_malformed_frames_are_counted_and_next_frame_processed(store: Any, types: MsgTypes) -> None:
    sink = Sink()
    core, _ = make_core(types, sink)
    short = image(store, DARK)
    short.data = short.data[:-10]
    shorter = image(store, DARK)
    shorter.data = shorter.data[:-20]
    bad_step = image(store, DARK)
    bad_step.step = 5
    unsupported = image(store, DARK)
    unsupported.encoding = "32FC1"
    for msg in (short, shorter, bad_step, unsupported):
        core.offer(msg)
    core.offer(image(store, DARK, sec=43))
    assert [m.header.stamp.sec for m in sink.out["image"]] == [43]
    snap = core.stats.snapshot()
    assert (snap.received, snap.processed, snap.failed) == (5, 1, 4)
    assert len(core.warnings) == 3  # the two short frames (of different lengths) are logged once
    assert any("unsupported image encoding '32FC1'" in w for w in core.warnings)
    stats = sink.out["stats"][-1]
    assert stats.frames_failed == 4 and "32FC1" in stats.last_error
    assert core.stats.diagnostic()[0] == DIAG_WARN


def test_model_error_is_counted_not_raised(store: Any, types: MsgTypes) -> None:
    sink = Sink()
    core, enh = make_core(types, sink, smoothing=0.0, auto_gate=False)
    enh.enhance = lambda frame, rgb=False: (_ for _ in ()).throw(RuntimeError("CUDA out of memory"))
    core.offer(image(store, DARK))
    assert sink.out["image"] == [] and "RuntimeError: CUDA out of memory" in core.stats.last_error


def test_frame_cut_short_by_shutdown_is_not_a_failure(store: Any, types: MsgTypes) -> None:
    def publish_after_shutdown(msg: Any) -> None:
        raise RuntimeError("Failed to publish: publisher's context is invalid")

    ros_up, warnings = [False], []  # down: what rclpy's Ctrl-C handler leaves behind
    core = EnhancerCore(
        StreamProcessor(holder_with(FakeCurveEnhancer()), StreamSettings(smoothing=0.0, auto_gate=False)),
        types,
        Publishers(image=publish_after_shutdown),
        log_warning=warnings.append,
        alive=lambda: ros_up[0],
    )
    core.offer(image(store, DARK))
    assert core.stats.snapshot().failed == 0 and warnings == []
    ros_up[0] = True  # the same error while ROS is up is a failed frame, and logged
    core.offer(image(store, DARK))
    assert core.stats.snapshot().failed == 1 and "context is invalid" in warnings[0]


def test_model_swap_between_frames(store: Any, types: MsgTypes) -> None:
    sink = Sink()
    holder = ModelHolder(
        lambda p: FakeCurveEnhancer(p["model"], strength=2.0 if p["model"] == "zero_dce" else 1.0), ENHANCER_BUILD_KEYS
    )
    holder.load({"model": "tiny_dce"})
    core = EnhancerCore(StreamProcessor(holder, StreamSettings(smoothing=0.9)), types, sink.publishers)
    core.offer(image(store, DARK))
    assert holder.load({"model": "zero_dce"})[0]
    core.offer(image(store, DARK))
    first, second = sink.out["stats"]
    assert (first.model, second.model) == ("tiny_dce", "zero_dce")
    # The smoother restarted with the new model instead of blending in the old model's curves.
    assert second.curve_mean[0] == pytest.approx(2 * first.curve_mean[0], rel=1e-5)


def test_keep_latest_with_worker_thread(store: Any, types: MsgTypes) -> None:
    started, release = threading.Event(), threading.Event()
    sink = Sink()
    enh = FakeCurveEnhancer()
    original = enh.estimate

    def slow(frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        started.set()
        release.wait(5)
        return original(frame, rgb)

    enh.estimate = slow
    core = EnhancerCore(
        StreamProcessor(holder_with(enh), StreamSettings(auto_gate=False)), types, sink.publishers
    ).start()
    try:
        core.offer(image(store, DARK, sec=1))
        assert started.wait(5)
        for sec in (2, 3, 4):
            core.offer(image(store, DARK, sec=sec))
        release.set()
        while core.stats.snapshot().processed < 2:
            started.wait(0.01)
    finally:
        core.stop()
    assert [m.header.stamp.sec for m in sink.out["image"]] == [1, 4]
    snap = core.stats.snapshot()
    assert (snap.received, snap.processed, snap.dropped) == (4, 2, 2)
    assert sink.out["stats"][-1].frames_dropped == 2


def test_detector_core_publishes_detections_and_annotated(store: Any, types: MsgTypes) -> None:
    sink = Sink(annotated=False)
    det = FakeDetector()
    core = DetectorCore(holder_with(det, ("model",)), types, sink.publishers)
    core.offer(image(store, DARK, sec=5))
    core.offer(image(store, np.zeros((8, 8), np.uint8), "mono8", sec=6, src="mono8"))
    first, empty = sink.out["detections"]
    assert first.header.stamp.sec == 5 and empty.header.stamp.sec == 6
    assert [d.results[0].hypothesis.class_id for d in first.detections] == ["person"]
    assert first.detections[0].header.stamp.sec == 5
    assert empty.detections == []  # nothing found still publishes an (empty) array
    assert sink.out["annotated"] == [] and det.seen[1].shape == (8, 8, 3)
    sink2 = Sink(annotated=True)
    DetectorCore(holder_with(det, ("model",)), types, sink2.publishers).offer(image(store, DARK, sec=7))
    (ann,) = sink2.out["annotated"]
    assert ann.encoding == "bgr8" and ann.header.stamp.sec == 7


def test_pipeline_core_detects_on_enhanced_frame(store: Any, types: MsgTypes) -> None:
    sink = Sink()
    det = FakeDetector()
    very_dark = np.full((8, 8, 3), 3, np.uint8)  # FakeDetector finds nothing below mean 5
    core = PipelineCore(
        StreamProcessor(holder_with(FakeCurveEnhancer(strength=2.0)), StreamSettings()),
        holder_with(det, ("model",)),
        types,
        sink.publishers,
    )
    core.offer(image(store, very_dark, sec=11))
    assert det.seen[0].mean() > 5  # the detector saw the enhanced frame
    (img,), (dets,), (stats,), (ann,) = (sink.out[k] for k in ("image", "detections", "stats", "annotated"))
    assert {m.header.stamp.sec for m in (img, dets, stats, ann)} == {11}
    assert len(dets.detections) == 1 and stats.frames_processed == 1


# ---------------------------------------------------------------- the real engine behind the node logic


def engine_params(model: str, **kw: Any) -> dict[str, Any]:
    return {"model": model, "weights": "", "backend": "auto", "device": "cpu", "scale_factor": 0, **kw}


def test_real_engine_swap_and_rejections(store: Any, types: MsgTypes) -> None:
    from llie_ros.processing import enhancer_factory

    holder = ModelHolder(enhancer_factory, ENHANCER_BUILD_KEYS)
    assert holder.load(engine_params("gamma")) == (True, "")
    sink = Sink()
    core = EnhancerCore(StreamProcessor(holder, StreamSettings(smoothing=0.5)), types, sink.publishers)
    core.offer(image(store, DARK))
    ok, reason = holder.load(engine_params("no_such_model"))
    assert not ok and "unknown model 'no_such_model'" in reason and "valid names" in reason
    ok, reason = holder.load(engine_params("gamma", scale_factor=4))
    assert not ok and "networks only" in reason
    ok, reason = holder.load(engine_params("gamma", backend="torch"))
    assert not ok and "numpy backend" in reason
    assert holder.current.name == "gamma" and holder.generation == 1  # the old model keeps running
    core.offer(image(store, DARK, sec=43))
    first, second = sink.out["stats"]
    assert (second.model, second.backend) == ("gamma", "numpy") and second.header.stamp.sec == 43
    assert first.applied_gain > 1.2 and core.stats.failed == 0


def test_real_curve_model_with_smoothing(store: Any, types: MsgTypes) -> None:
    from llie_core.registry import reference_weights_path
    from llie_ros.processing import enhancer_factory

    if not reference_weights_path("tiny_dce").is_file():
        pytest.skip(f"reference weights missing: {reference_weights_path('tiny_dce')}")
    pytest.importorskip("torch", reason="the reference checkpoint runs on the torch backend")
    holder = ModelHolder(enhancer_factory, ENHANCER_BUILD_KEYS)
    assert holder.load(engine_params("tiny_dce", weights="reference", scale_factor=4)) == (True, "")
    sink = Sink()
    core = EnhancerCore(StreamProcessor(holder, StreamSettings(smoothing=0.5)), types, sink.publishers)
    frame = np.full((48, 64, 3), 25, np.uint8)
    for sec in (1, 2):
        core.offer(image(store, frame, "rgb8", sec=sec, src="bgr8"))
    a, b = sink.out["stats"]
    assert (b.model, b.backend) == ("tiny_dce", "torch") and len(b.curve_mean) == 3
    # Same frame twice: the smoothed curves equal the frame's curves, so the output does not change.
    np.testing.assert_allclose(a.curve_mean, b.curve_mean, rtol=1e-5)
    out, _ = image_msg_to_array(sink.out["image"][1])
    assert sink.out["image"][1].encoding == "rgb8" and out.mean() > 2 * frame.mean()


def test_enhancers_are_warmed_up_in_every_layout_a_node_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    import llie_core
    from llie_core.imgmsg import SUPPORTED_ENCODINGS, compressed_msg_to_array, image_msg_to_array
    from llie_ros.processing import enhancer_factory

    decoded = set()
    for encoding in SUPPORTED_ENCODINGS:  # 2×2 frames, rows padded to 16 bytes: room for any pixel size
        msg = SimpleNamespace(height=2, width=2, encoding=encoding, is_bigendian=0, step=16, data=bytes(32))
        array, _ = image_msg_to_array(msg)
        decoded.add((array.dtype, array.ndim))
    png16 = cv2.imencode(".png", np.zeros((2, 2, 3), np.uint16))[1]  # 16-bit colour arrives as png
    array, _ = compressed_msg_to_array(SimpleNamespace(format="png", data=png16.tobytes()))
    decoded.add((array.dtype, array.ndim))

    warmed = []

    class Recorder:
        def enhance(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
            warmed.append((frame.dtype, frame.ndim))
            return frame

    monkeypatch.setattr(llie_core, "create_enhancer", lambda *args, **kwargs: Recorder())
    enhancer_factory({"model": "clahe"})
    # The kernels are compiled per dtype and dimensions: no layout may compile on a camera frame.
    assert (
        decoded
        == set(warmed)
        == {(np.dtype(np.uint8), 3), (np.dtype(np.uint8), 2), (np.dtype(np.uint16), 2), (np.dtype(np.uint16), 3)}
    )


def test_parameter_changes_are_all_or_nothing() -> None:
    specs = pipeline_params()
    built: list[str] = []

    def factory(params: dict) -> str:
        if params["model"] == "broken":
            raise ValueError("does not load")
        built.append(params["model"])
        return params["model"]

    enhancer = ModelHolder(factory, ("model",))
    detector = ModelHolder(lambda p: factory({"model": p["detector.model"]}), ("detector.model",))
    values = {s.name: s.default for s in specs} | {"model": "gamma", "detector.model": "a.pt"}
    assert enhancer.load(values) == (True, "") and detector.load(values) == (True, "")
    results: list[RebuildResult] = []
    rebuild = ModelRebuild(results.append)

    ok, _, merged, stale = plan_parameter_changes(
        values, {"model": "clahe", "detector.model": "broken"}, specs, (enhancer, detector)
    )
    assert ok and stale == (enhancer, detector)  # nothing is built while planning
    rebuild.start({"model": "clahe", "detector.model": "broken"}, merged, stale)
    assert rebuild.wait(5)
    assert not results[-1].ok and "does not load" in results[-1].reason
    assert (enhancer.current, detector.current) == ("gamma", "a.pt")  # clahe was built but not swapped in
    ok, reason, _, stale = plan_parameter_changes(values, {"gate_threshold": 0.02}, specs, (enhancer,), check_gate)
    assert not ok and "gate" in reason and stale == ()  # the cross-parameter check runs on the merged values
    ok, _, merged, stale = plan_parameter_changes(values, {"model": "clahe"}, specs, (enhancer, detector), check_gate)
    assert ok and stale == (enhancer,)
    rebuild.start({"model": "clahe"}, merged, stale)
    assert rebuild.wait(5) and results[-1].ok and results[-1].changes == {"model": "clahe"}
    assert enhancer.current == "clahe" and detector.generation == 1


def test_model_checks_answer_without_building(tmp_path: Path) -> None:
    holder = ModelHolder(lambda p: pytest.fail("nothing is built"), ENHANCER_BUILD_KEYS, check_enhancer)
    base = {"model": "tiny_dce", "weights": "", "backend": "auto", "device": "cpu", "scale_factor": 0}
    assert holder.check(base) == (True, "")
    ok, reason = holder.check({**base, "model": "nope"})
    assert not ok and "unknown model 'nope'; valid names:" in reason and "tiny_dce" in reason
    ok, reason = holder.check({**base, "model": "clahe", "scale_factor": 4})
    assert not ok and "scale_factor applies to networks only" in reason
    ok, reason = holder.check({**base, "weights": str(tmp_path / "missing.onnx")})
    assert not ok and "missing.onnx' does not exist" in reason
    assert holder.check({**base, "weights": "reference"}) == (True, "")
    detector = ModelHolder(lambda p: pytest.fail("nothing is built"), ("model",), check_detector)
    assert "is empty" in detector.check({"model": ""})[1]
    assert "does not exist" in detector.check({"model": str(tmp_path / "y.pt")})[1]
    (tmp_path / "y.pt").write_bytes(b"")
    assert detector.check({"model": str(tmp_path / "y.pt")}) == (True, "")
