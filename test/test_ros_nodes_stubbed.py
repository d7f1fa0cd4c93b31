"""The rclpy node modules run against a minimal stand-in of the rclpy API (where real rclpy is absent).

This does not replace the launch_testing test under real ROS; it checks the glue: parameters declared with
descriptors and overrides, topics and QoS, the subscription -> core -> publisher wiring with the input
header, the set-parameters callback (model swap, rejection with a reason), and startup failure.
"""

from __future__ import annotations

import array
import enum
import importlib
import sys
import threading
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llie_core.imgmsg import array_to_image_fields, image_msg_to_array

NODE_MODULES = ("llie_ros.ros_common", "llie_ros.enhancer_node", "llie_ros.detector_node", "llie_ros.pipeline_node")


class Msg:
    """A message class: keyword fields, like rclpy's generated classes."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def msg_class(name: str, **defaults: Any) -> type:
    def init(self: Any, **fields: Any) -> None:
        self.__dict__.update({**{k: (v() if callable(v) else v) for k, v in defaults.items()}, **fields})

    return type(name, (Msg,), {"__init__": init})


class ParamValue:
    def __init__(self, name: str, value: Any = None) -> None:
        self.name, self.value = name, value


class FakePublisher:
    def __init__(self, msg_type: type, topic: str, qos: Any) -> None:
        self.msg_type, self.topic, self.qos = msg_type, topic, qos
        self.sent: list[Any] = []
        self.subscribers = 0

    def publish(self, msg: Any) -> None:
        assert isinstance(msg, self.msg_type), f"{self.topic}: published {type(msg).__name__}"
        self.sent.append(msg)

    def get_subscription_count(self) -> int:
        return self.subscribers


class FakeLogger:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __getattr__(self, level: str):
        return lambda text: self.lines.append((level, text))


class FakeNode:
    """The subset of rclpy.node.Node the llie nodes use, with the same signatures."""

    overrides: dict[str, Any] = {}

    def __init__(self, node_name: str, **kwargs: Any) -> None:
        self.name = node_name
        self.params: dict[str, Any] = {}
        self.descriptors: dict[str, Any] = {}
        self.pubs: dict[str, FakePublisher] = {}
        self.subs: dict[str, tuple[type, Any, Any]] = {}
        self.param_callbacks: list[Any] = []
        self.timers: list[Any] = []
        self.logger = FakeLogger()
        self.context = types.SimpleNamespace(ok=lambda: True)  # rclpy's Context: ok() until shutdown

    def declare_parameter(self, name: str, value: Any = None, descriptor: Any = None, ignore_override: bool = False):
        assert not self.param_callbacks, "declare parameters before adding the set-parameters callback"
        self.params[name] = self.overrides.get(name, value)
        self.descriptors[name] = descriptor
        return ParamValue(name, self.params[name])

    def create_publisher(self, msg_type: type, topic: str, qos: Any) -> FakePublisher:
        self.pubs[topic] = FakePublisher(msg_type, topic, qos)
        return self.pubs[topic]

    def create_subscription(self, msg_type: type, topic: str, callback: Any, qos: Any) -> None:
        self.subs[topic] = (msg_type, callback, qos)

    def add_on_set_parameters_callback(self, callback: Any) -> None:
        self.param_callbacks.append(callback)

    def get_logger(self) -> FakeLogger:
        return self.logger

    def resolve_topic_name(self, topic: str) -> str:
        return topic

    def get_fully_qualified_name(self) -> str:
        return f"/{self.name}"

    def create_timer(self, period: float, callback: Any, callback_group: Any = None, clock: Any = None) -> Any:
        timer = types.SimpleNamespace(period=period, callback=callback, clock=clock, cancel=lambda: None)
        self.timers.append(timer)
        return timer

    def destroy_timer(self, timer: Any) -> None:
        self.timers.remove(timer)

    def spin_once(self) -> None:
        """What the executor does next: run the timers that are due (all of ours are one-shot)."""
        for timer in list(self.timers):
            timer.callback()

    def set_parameters(self, params: list[ParamValue]) -> list[Any]:
        """rclpy's: run the callbacks, store on success."""
        result = self.param_callbacks[0](params)
        if result.successful:
            self.params.update({p.name: p.value for p in params})
        return [result]

    def set(self, **values: Any) -> Any:
        """What `ros2 param set` does."""
        (result,) = self.set_parameters([ParamValue(k, v) for k, v in values.items()])
        return result


class Updater:
    def __init__(self, node: Any, period: float = 1.0) -> None:
        self.tasks: list[tuple[str, Any]] = []
        self.period = period
        self.timer = node.create_timer(period, self.update)  # on the node's clock, as diagnostic_updater does

    def update(self) -> None:
        pass

    def setHardwareID(self, hwid: str) -> None:  # noqa: N802 (the real API's name)
        self.hwid = hwid

    def add(self, name: str, func: Any) -> None:
        self.tasks.append((name, func))


class StatusWrapper:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def summary(self, level: bytes, message: str) -> None:
        self.level, self.message = level, message

    def add(self, key: str, value: str) -> None:
        self.values[key] = value


def _module(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


@pytest.fixture()
def ros(monkeypatch: pytest.MonkeyPatch):
    """Install the stand-in modules, import the node modules against them, remove everything afterwards."""
    if importlib.util.find_spec("rclpy") is not None:
        pytest.skip("real rclpy present: the launch_testing test covers the nodes")

    class Policy(enum.Enum):
        RELIABLE = 1
        BEST_EFFORT = 2
        KEEP_LAST = 3
        VOLATILE = 4

    header = msg_class("Header", stamp=lambda: Msg(sec=0, nanosec=0), frame_id="")
    modules = {
        "rclpy": _module(
            "rclpy",
            init=lambda args=None: None,
            spin=lambda node: None,
            ok=lambda: True,
            try_shutdown=lambda: None,
            logging=types.SimpleNamespace(get_logger=lambda name: FakeLogger()),
        ),
        "rclpy.node": _module("rclpy.node", Node=FakeNode),
        "rclpy.clock": _module(
            "rclpy.clock",
            Clock=lambda clock_type: types.SimpleNamespace(clock_type=clock_type),
            ClockType=types.SimpleNamespace(ROS_TIME=1, SYSTEM_TIME=2, STEADY_TIME=3),
        ),
        "rclpy.logging": _module("rclpy.logging", get_logger=lambda name: FakeLogger()),
        "rclpy.parameter": _module("rclpy.parameter", Parameter=ParamValue),
        "rclpy.executors": _module("rclpy.executors", ExternalShutdownException=type("ESE", (Exception,), {})),
        "rclpy.qos": _module(
            "rclpy.qos", QoSProfile=Msg, ReliabilityPolicy=Policy, HistoryPolicy=Policy, DurabilityPolicy=Policy
        ),
        "rcl_interfaces": _module("rcl_interfaces"),
        "rcl_interfaces.msg": _module(
            "rcl_interfaces.msg",
            ParameterDescriptor=msg_class("ParameterDescriptor", floating_point_range=list, integer_range=list),
            FloatingPointRange=Msg,
            IntegerRange=Msg,
            SetParametersResult=Msg,
        ),
        "sensor_msgs": _module("sensor_msgs"),
        "sensor_msgs.msg": _module(
            "sensor_msgs.msg",
            Image=msg_class("Image"),
            CompressedImage=msg_class("CI"),
            CameraInfo=msg_class("CameraInfo"),
        ),
        "diagnostic_msgs": _module("diagnostic_msgs"),
        "diagnostic_msgs.msg": _module(
            "diagnostic_msgs.msg", DiagnosticStatus=types.SimpleNamespace(OK=b"\x00", WARN=b"\x01", ERROR=b"\x02")
        ),
        "diagnostic_updater": _module("diagnostic_updater", Updater=Updater),
        "llie": _module("llie"),
        "llie.msg": _module("llie.msg", EnhancementStats=msg_class("EnhancementStats")),
        "vision_msgs": _module("vision_msgs"),
        "vision_msgs.msg": _module(
            "vision_msgs.msg",
            **{
                n: msg_class(n)
                for n in (
                    "Detection2DArray",
                    "Detection2D",
                    "ObjectHypothesisWithPose",
                    "ObjectHypothesis",
                    "BoundingBox2D",
                    "Pose2D",
                    "Point2D",
                )
            },
        ),
        "geometry_msgs": _module("geometry_msgs"),
        "geometry_msgs.msg": _module(
            "geometry_msgs.msg", **{n: msg_class(n) for n in ("PoseWithCovariance", "Pose", "Point", "Quaternion")}
        ),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    for name in NODE_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    FakeNode.overrides = {}
    yield types.SimpleNamespace(
        header=header, Image=modules["sensor_msgs.msg"].Image, CameraInfo=modules["sensor_msgs.msg"].CameraInfo
    )
    for name in NODE_MODULES:
        sys.modules.pop(name, None)
        # `from llie_ros import enhancer_node` reads the package attribute first: drop it with the module, so the
        # next test imports the node modules afresh against its own stand-ins.
        package, _, module = name.rpartition(".")
        if package in sys.modules and hasattr(sys.modules[package], module):
            delattr(sys.modules[package], module)


class FakeEnhancer:
    kind = "classical"
    backend = "numpy"

    def __init__(self, name: str) -> None:
        self.name = name

    def enhance(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        return np.clip(frame.astype(np.int32) * 2, 0, 255).astype(np.uint8)


def fake_factory(params: dict) -> FakeEnhancer:
    if params["model"] not in ("gamma", "clahe"):
        raise ValueError(f"unknown model {params['model']!r}; valid names: clahe, gamma")
    return FakeEnhancer(params["model"])


def frame(ros: Any, sec: int, **change: Any) -> Any:
    hdr = ros.header(frame_id="cam")
    hdr.stamp.sec = sec
    fields = array_to_image_fields(
        np.full((6, 8, 3), 30, np.uint8), "bgr8", hdr, data_factory=lambda a: array.array("B", a.tobytes())
    )
    fields.update(change)
    return ros.Image(**fields)


def test_enhancer_node_wiring(ros: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import llie_ros.processing

    monkeypatch.setattr(llie_ros.processing, "enhancer_factory", fake_factory)
    from llie_ros import enhancer_node

    monkeypatch.setattr(enhancer_node, "enhancer_factory", fake_factory)
    FakeNode.overrides = {"model": "gamma", "smoothing": 0.0, "qos_reliability": "best_effort"}
    node = enhancer_node.EnhancerNode()
    try:
        assert set(node.subs) == {"image_raw", "camera_info"}
        assert {"enhanced/image_raw", "enhanced/image_raw/compressed", "enhanced/camera_info", "~/stats"} <= set(
            node.pubs
        )
        sub_qos = node.subs["image_raw"][2]
        assert sub_qos.reliability.name == "BEST_EFFORT" and node.pubs["~/stats"].qos.reliability.name == "BEST_EFFORT"
        desc = node.descriptors["gate_threshold"]
        assert desc.floating_point_range[0].to_value == 1.0 and not desc.read_only
        assert node.descriptors["qos_depth"].read_only and node.descriptors["jpeg_quality"].integer_range[0].step == 1

        node.core.stop()  # process synchronously from here on: deterministic
        node.core._worker = None
        callback = node.subs["image_raw"][1]
        callback(frame(ros, 5))
        callback(frame(ros, 6, step=3))  # malformed
        callback(frame(ros, 7))
        images, stats = node.pubs["enhanced/image_raw"].sent, node.pubs["~/stats"].sent
        assert [m.header.stamp.sec for m in images] == [5, 7]
        assert isinstance(images[0].data, array.array) and image_msg_to_array(images[0])[0].mean() == 60
        assert stats[-1].frames_failed == 1 and stats[-1].model == "gamma" and stats[-1].header.stamp.sec == 7
        assert isinstance(stats[-1].curve_mean, array.array)
        assert any("step 3 < width 8" in text for level, text in node.logger.lines if level == "warning")
        info = ros.CameraInfo(header=ros.header(frame_id="cam"))
        node.subs["camera_info"][1](info)
        assert node.pubs["enhanced/camera_info"].sent == [info]

        assert node.set(model="clahe").successful
        assert node.rebuild.wait(5)  # built in the background
        callback(frame(ros, 8))
        assert stats[-1].model == "clahe"
        bad = node.set(model="nope")
        assert not bad.successful and "unknown model 'nope'" in bad.reason and node.holder.current.name == "clahe"
        assert not node.set(gate_hysteresis=0.45).successful  # above the threshold 0.4
        assert node.set(enabled=False).successful and node.processor.settings.enabled is False
        assert node.set(use_sim_time=True).successful  # rclpy's own parameters are not ours to refuse

        assert node.diagnostics.tasks[0][0] == "llie enhancer"  # the node is in the root namespace here
        # Reports on the steady clock: /clock (use_sim_time) stops when a replay pauses or ends.
        assert node.timers == [node.diagnostics.timer] and node.diagnostics.timer.clock.clock_type == 3
        status = StatusWrapper()
        node.diagnostics.tasks[0][1](status)
        assert status.level == b"\x01" and status.values["frames failed"] == "1" and status.values["model"] == "clahe"
    finally:
        node.shutdown()


def test_enhancer_node_swaps_real_networks_and_a_classical_method(ros: Any) -> None:
    # The real factory (llie_core.create_enhancer): a curve model, an IAT model, a classical method, swapped at run
    # time; each one's frames are published and its estimate (smoothed) reported.
    pytest.importorskip("torch")  # the published iat_student checkpoint runs on torch (onnxruntime: exported by torch)
    from conftest import shared_path

    shared_path("weights", "reference", "iat_student.pth")
    from llie_ros import enhancer_node

    FakeNode.overrides = {"model": "tiny_dce", "auto_gate": False, "smoothing": 0.5}
    node = enhancer_node.EnhancerNode()
    try:
        node.core.stop()  # process synchronously from here on: deterministic
        node.core._worker = None
        images, stats = node.pubs["enhanced/image_raw"].sent, node.pubs["~/stats"].sent

        def callback(sec: int) -> None:
            # 96x128: the published student garbles frames of a few pixels (the model, not the engine: test_engine)
            hdr = ros.header(frame_id="cam")
            hdr.stamp.sec = sec
            fields = array_to_image_fields(np.full((96, 128, 3), 30, np.uint8), "bgr8", hdr, data_factory=bytes)
            node.subs["image_raw"][1](ros.Image(**fields))

        callback(1)
        assert node.set(model="iat_student", weights="reference", scale_factor=4).successful
        assert node.rebuild.wait(30)  # built in the background
        callback(2)
        callback(3)
        assert node.set(model="clahe", weights="", scale_factor=0).successful
        assert node.rebuild.wait(30)
        callback(4)
        assert [(m.header.stamp.sec, s.model) for m, s in zip(images, stats, strict=True)] == [
            (1, "tiny_dce"),
            (2, "iat_student"),
            (3, "iat_student"),
            (4, "clahe"),
        ]
        assert [len(s.curve_mean) for s in stats] == [3, 16, 16, 0]  # curve maps; IAT maps + [gamma, M]; none
        assert stats[2].curve_mean == pytest.approx(stats[1].curve_mean)  # same frame: the average is unchanged
        for message in images:
            assert image_msg_to_array(message)[0].mean() > 30  # every model brightened the dark frame
        assert stats[-1].frames_failed == 0
    finally:
        node.shutdown()


def test_detector_and_pipeline_nodes_build(ros: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import llie_ros.processing
    from llie_core.detect import Detection

    class FakeDetector:
        def __init__(self, params: dict) -> None:
            if not params.get("model"):
                raise ValueError("parameter 'model' is empty")
            self.model = params["model"]

        def detect(self, bgr: np.ndarray) -> list[Detection]:
            return [Detection(2, "car", 0.7, 1, 1, 4, 4)]

        @staticmethod
        def annotate(bgr: np.ndarray, dets: list) -> np.ndarray:
            return bgr

    monkeypatch.setattr(llie_ros.processing, "enhancer_factory", fake_factory)
    from llie_ros import detector_node, pipeline_node
    from llie_ros.ros_common import StartupError

    monkeypatch.setattr(detector_node, "detector_factory", FakeDetector)
    with pytest.raises(StartupError, match="'model' is empty"):
        detector_node.DetectorNode()
    FakeNode.overrides = {"model": "/m/yolov8n.pt", "classes": [2]}
    det = detector_node.DetectorNode()
    try:
        # camera_info of the camera namespace: its stamps tell frames lost before the detector
        assert set(det.subs) == {"image", "camera_info"} and {"detections", "~/annotated"} <= set(det.pubs)
        det.core.stop()
        det.core._worker = None
        det.subs["image"][1](frame(ros, 9))
        (arr,) = det.pubs["detections"].sent
        assert arr.header.stamp.sec == 9 and arr.detections[0].results[0].hypothesis.class_id == "car"
        assert det.pubs["~/annotated"].sent == []  # nobody subscribed
        assert not det.set(conf=1.5).successful
    finally:
        det.shutdown()

    monkeypatch.setattr(pipeline_node, "enhancer_factory", fake_factory)
    monkeypatch.setattr(pipeline_node, "detector_factory", FakeDetector)
    FakeNode.overrides = {"model": "gamma", "detector.model": "/m/yolov8n.pt"}
    pipe = pipeline_node.PipelineNode()
    try:
        pipe.core.stop()
        pipe.core._worker = None
        pipe.pubs["~/annotated"].subscribers = 1
        pipe.subs["image_raw"][1](frame(ros, 10))
        for topic in ("enhanced/image_raw", "detections", "~/annotated", "~/stats"):
            assert pipe.pubs[topic].sent[0].header.stamp.sec == 10, topic
        # All or nothing: a bad detector model leaves the new enhancer model unapplied too.
        result = pipe.set(**{"model": "clahe", "detector.model": ""})
        assert not result.successful and pipe.holder.current.name == "gamma"
        other = tmp_path / "other.onnx"
        other.write_bytes(b"")
        assert pipe.set(**{"model": "clahe", "detector.model": str(other)}).successful
        assert pipe.rebuild.wait(5)
        assert pipe.holder.current.name == "clahe" and pipe.det_holder.current.model == str(other)
    finally:
        pipe.shutdown()


def test_model_swap_builds_off_the_executor(ros: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import llie_ros.processing
    from llie_ros import enhancer_node

    building, release = threading.Event(), threading.Event()

    def slow_factory(params: dict) -> FakeEnhancer:
        if params["model"] == "clahe":  # a slow build: ONNX Runtime / torch set-up, kernel compilation, warm-up
            building.set()
            assert release.wait(10)
        if params["model"] == "he":
            raise RuntimeError("the warm-up frame failed")
        return FakeEnhancer(params["model"])

    monkeypatch.setattr(llie_ros.processing, "enhancer_factory", slow_factory)
    monkeypatch.setattr(enhancer_node, "enhancer_factory", slow_factory)
    FakeNode.overrides = {"model": "gamma", "smoothing": 0.0}
    node = enhancer_node.EnhancerNode()
    try:
        node.core.stop()
        node.core._worker = None
        callback, stats = node.subs["image_raw"][1], node.pubs["~/stats"].sent
        assert node.set(model="clahe").successful  # answered at once; the build runs on its own thread
        assert building.wait(5)
        for sec in (1, 2, 3):  # frames keep flowing, on the running model, while clahe builds
            callback(frame(ros, sec))
        assert [(m.header.stamp.sec, m.model) for m in stats] == [(1, "gamma"), (2, "gamma"), (3, "gamma")]
        status = StatusWrapper()
        node.diagnostics.tasks[0][1](status)
        assert status.values["model change"].startswith("building model=clahe for ")
        busy = node.set(model="he")
        assert not busy.successful and "still building model=clahe" in busy.reason
        assert node.set(smoothing=0.3).successful  # no model to build: applied at once
        assert node.processor.settings.smoothing == 0.3
        release.set()
        assert node.rebuild.wait(5)
        callback(frame(ros, 4))
        assert stats[-1].model == "clahe" and node.values["model"] == "clahe"
        assert node.processor.settings.smoothing == 0.3  # the swap kept the change made meanwhile

        # A build that fails after the checks: the running model stays, the parameter goes back, and the
        # log and /diagnostics say why.
        assert node.set(model="he").successful
        assert node.rebuild.wait(5)
        assert node.params["model"] == "he"  # what rclpy stored when the callback accepted it ...
        timers = list(node.timers)
        node.spin_once()  # ... is set back on the executor, by a one-shot timer
        assert len(timers) == 2 and node.timers == [node.diagnostics.timer]
        assert (
            node.holder.current.name == "clahe" and node.params["model"] == "clahe" and node.values["model"] == "clahe"
        )
        errors = [text for level, text in node.logger.lines if level == "error"]
        assert errors == [
            "model=he failed; the running model stays: cannot load model with "
            "{'model': 'he', 'weights': '', 'backend': 'auto', 'device': 'cpu', 'scale_factor': 0, "
            "'amplification': 0.0}: "
            "RuntimeError: the warm-up frame failed"
        ]
        status = StatusWrapper()
        node.diagnostics.tasks[0][1](status)
        assert status.level == b"\x01" and status.message == errors[0]
        assert status.values["model change"] == errors[0]
        callback(frame(ros, 5))
        assert stats[-1].model == "clahe"
        status = StatusWrapper()
        node.diagnostics.tasks[0][1](status)
        assert status.level == b"\x00"  # reported once
    finally:
        node.shutdown()


def test_frames_lost_before_the_node_reach_stats_and_diagnostics(ros: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import llie_ros.processing

    monkeypatch.setattr(llie_ros.processing, "enhancer_factory", fake_factory)
    from llie_ros import enhancer_node

    monkeypatch.setattr(enhancer_node, "enhancer_factory", fake_factory)
    FakeNode.overrides = {"model": "gamma"}
    node = enhancer_node.EnhancerNode()
    try:
        node.core.stop()
        node.core._worker = None
        image_cb, info_cb = node.subs["image_raw"][1], node.subs["camera_info"][1]
        assert node.subs["camera_info"][2].reliability.name == "BEST_EFFORT"  # sensor-data QoS, like the images
        lost = {6, 7, 8, 12}  # lost in transport: their camera_info arrives, they do not
        for sec in range(1, 21):
            if sec not in lost:
                image_cb(frame(ros, sec))
            info = ros.CameraInfo(header=ros.header(frame_id="cam"))
            info.header.stamp.sec = sec
            info_cb(info)
        stats = node.pubs["~/stats"].sent
        assert len(stats) == 16 and stats[-1].frames_received == 16 and stats[-1].frames_lost == len(lost)
        assert len(node.pubs["enhanced/camera_info"].sent) == 20  # still republished, every one
        status = StatusWrapper()
        node.diagnostics.tasks[0][1](status)
        assert status.level == b"\x01" and "4 of 20 frames (20%) lost before the node" in status.message
        assert status.values["frames lost before the node"] == "4"
    finally:
        node.shutdown()


def test_startup_error_exits_with_reason(ros: Any) -> None:
    from llie_ros.ros_common import StartupError, spin

    def failing() -> Any:
        raise StartupError("cannot load model 'nope'")

    with pytest.raises(SystemExit) as exit_info:
        spin(failing)
    assert exit_info.value.code == 1


class StoppingNode:
    """Records the clean-up steps spin() takes; ``interrupt`` makes its shutdown meet a second Ctrl-C."""

    def __init__(self, steps: list[str], interrupt: bool = False) -> None:
        self.steps, self.interrupt = steps, interrupt

    def shutdown(self) -> None:
        self.steps.append("shutdown")
        if self.interrupt:
            raise KeyboardInterrupt

    def destroy_node(self) -> None:
        self.steps.append("destroy")


def test_ctrl_c_exits_cleanly_wherever_it_lands(ros: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import rclpy

    from llie_ros.ros_common import spin

    class RCLError(RuntimeError):  # rclpy's, a RuntimeError
        pass

    context = {"ok": True}
    steps: list[str] = []
    monkeypatch.setattr(rclpy, "ok", lambda: context["ok"])
    monkeypatch.setattr(rclpy, "try_shutdown", lambda: steps.append("rclpy shutdown"))

    def racing_spin(node: Any) -> None:
        context["ok"] = False  # SIGINT's thread shut the context down while the executor built its wait set
        raise RCLError("failed to initialize wait set: the given context is not valid")

    monkeypatch.setattr(rclpy, "spin", racing_spin)
    spin(lambda: StoppingNode(steps))  # returns: exit code 0
    assert steps == ["shutdown", "destroy", "rclpy shutdown"]

    # The KeyboardInterrupt of the same SIGINT, landing in the clean-up, skips only that step.
    steps.clear()
    spin(lambda: StoppingNode(steps, interrupt=True))
    assert steps == ["shutdown", "destroy", "rclpy shutdown"]

    def interrupted(node: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(rclpy, "spin", interrupted)
    steps.clear()
    spin(lambda: StoppingNode(steps))
    assert steps == ["shutdown", "destroy", "rclpy shutdown"]

    # The same error while ROS is still up is a real failure: it surfaces, after the clean-up.
    def broken(node: Any) -> None:
        raise RCLError("failed to take a message")

    context["ok"] = True
    monkeypatch.setattr(rclpy, "spin", broken)
    steps.clear()
    with pytest.raises(RCLError, match="failed to take"):
        spin(lambda: StoppingNode(steps))
    assert steps == ["shutdown", "destroy", "rclpy shutdown"]


def test_diagnostic_status_names_are_unique_per_camera(ros: Any) -> None:
    from llie_ros.ros_common import diagnostic_task_name

    # diagnostic_updater prefixes "<node name>: " only; the namespace tells two cameras' enhancers apart.
    assert diagnostic_task_name("llie enhancer", "/front_camera/enhancer") == "llie enhancer /front_camera"
    assert diagnostic_task_name("llie enhancer", "/robot/rear/enhancer") == "llie enhancer /robot/rear"
    assert diagnostic_task_name("llie enhancer", "/enhancer") == "llie enhancer"
