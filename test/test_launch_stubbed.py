"""The launch files' logic, run against a minimal stand-in of launch / launch_ros (where ROS is absent).

Each file's OpaqueFunction is evaluated with argument values as `ros2 launch ... name:=value` would give
them, and the resulting Node / GroupAction / ExecuteProcess descriptions are checked: executables,
namespaces, remappings, parameter files and overrides.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml

LAUNCH = Path(__file__).resolve().parents[1] / "launch"
SHARE = "/opt/ws/install/llie/share/llie"


class Action:
    """Records its constructor arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs


class DeclareLaunchArgument(Action):
    @property
    def name(self) -> str:
        return self.args[0]


class LaunchConfiguration:
    def __init__(self, name: str) -> None:
        self.name = name

    def perform(self, context: dict) -> str:
        return context[self.name]


class FindPackageShare:
    def __init__(self, package: str) -> None:
        assert package == "llie"

    def perform(self, context: dict) -> str:
        return SHARE


class PathJoinSubstitution:
    def __init__(self, parts: list) -> None:
        self.parts = parts

    def perform(self, context: dict) -> str:
        return os.path.join(*(p if isinstance(p, str) else p.perform(context) for p in self.parts))


class LaunchDescription:
    def __init__(self, entities: list) -> None:
        self.entities = entities


@pytest.fixture()
def launch_stub(monkeypatch: pytest.MonkeyPatch):
    """Install the stand-in launch modules for one test."""
    if importlib.util.find_spec("launch_ros") is not None:
        pytest.skip("real launch_ros present: test_ros_package imports the launch files for real")
    mods = {
        "launch": dict(LaunchContext=dict, LaunchDescription=LaunchDescription),
        "launch.actions": dict(
            DeclareLaunchArgument=DeclareLaunchArgument,
            OpaqueFunction=Action,
            GroupAction=Action,
            IncludeLaunchDescription=Action,
            ExecuteProcess=Action,
            TimerAction=Action,
            RegisterEventHandler=Action,
            EmitEvent=Action,
        ),
        "launch.event_handlers": dict(OnProcessIO=Action, OnProcessExit=Action),
        "launch.events": dict(Shutdown=Action),
        "launch.substitutions": dict(
            LaunchConfiguration=LaunchConfiguration, PathJoinSubstitution=PathJoinSubstitution
        ),
        "launch.launch_description_sources": dict(PythonLaunchDescriptionSource=Action),
        "launch_ros": {},
        "launch_ros.actions": dict(Node=Action, PushRosNamespace=Action),
        "launch_ros.substitutions": dict(FindPackageShare=FindPackageShare),
    }
    for name, attrs in mods.items():
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        monkeypatch.setitem(sys.modules, name, module)
    # imported afresh on the stand-ins (it imports launch at module level)
    monkeypatch.delitem(sys.modules, "llie_ros.launch_actions", raising=False)


def run_launch(name: str, **args: str) -> list:
    """Evaluate a launch file with `name:=value` arguments; returns the actions its OpaqueFunction produces."""
    spec = importlib.util.spec_from_file_location(name.replace(".", "_"), LAUNCH / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entities = module.generate_launch_description().entities
    declared = [e for e in entities if isinstance(e, DeclareLaunchArgument)]
    assert [e.name for e in declared] == list(module.NAMES)  # each once, in the documented order
    assert all(e.kwargs["description"] for e in declared)
    context = {}
    for e in declared:
        default = e.kwargs["default_value"]
        context[e.name] = default if isinstance(default, str) else default.perform(context)
    unknown = set(args) - set(context)
    assert not unknown, f"{name} has no arguments {unknown}"
    context.update(args)
    (opaque,) = [e for e in entities if not isinstance(e, DeclareLaunchArgument)]
    return opaque.kwargs["function"](context)


def nodes(actions: list) -> dict[str, Action]:
    """The Node actions by executable."""
    return {a.kwargs["executable"]: a for a in actions if "executable" in a.kwargs}


def test_enhance_defaults_and_overrides(launch_stub: None) -> None:
    (node,) = run_launch("enhance.launch.py")
    kw = node.kwargs
    assert (kw["package"], kw["executable"], kw["namespace"]) == ("llie", "enhancer", "/camera")
    assert kw["parameters"] == [f"{SHARE}/config/enhancer.yaml", {"use_sim_time": False, "image_transport": "raw"}]
    assert ("image_raw", "image_raw") in kw["remappings"]
    (node,) = run_launch(
        "enhance.launch.py", camera="/front_camera", image="color/image_raw", model="zero_dce_pp", use_sim_time="true"
    )
    kw = node.kwargs
    assert kw["namespace"] == "/front_camera" and ("image_raw", "color/image_raw") in kw["remappings"]
    assert ("image_raw/compressed", "color/image_raw/compressed") in kw["remappings"]
    assert kw["parameters"][1] == {"use_sim_time": True, "image_transport": "raw", "model": "zero_dce_pp"}


def test_enhance_detect_two_nodes_and_pipeline(launch_stub: None) -> None:
    two = nodes(run_launch("enhance_detect.launch.py", camera="/front_camera", detector_model="/m/yolov8n.pt"))
    assert set(two) == {"enhancer", "detector"}
    det = two["detector"].kwargs
    # The detector reads the enhancer's image and the camera_info it republishes (frames it never got show there).
    assert det["namespace"] == "/front_camera"
    assert det["remappings"] == [("image", "enhanced/image_raw"), ("camera_info", "enhanced/camera_info")]
    assert det["parameters"] == [f"{SHARE}/config/detector.yaml", {"use_sim_time": False, "model": "/m/yolov8n.pt"}]
    assert "model" not in two["enhancer"].kwargs["parameters"][1]  # empty model: the params file decides

    one = nodes(run_launch("enhance_detect.launch.py", use_pipeline="true", model="clahe", detector_model="/m/y.onnx"))
    assert set(one) == {"pipeline"}
    params = one["pipeline"].kwargs["parameters"]
    assert params[0] == f"{SHARE}/config/pipeline.yaml"
    assert params[1]["model"] == "clahe" and params[1]["detector.model"] == "/m/y.onnx"


def test_enhance_detect_rviz_config_follows_the_camera(launch_stub: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FindPackageShare, "perform", lambda self, ctx: str(LAUNCH.parent))
    actions = run_launch("enhance_detect.launch.py", camera="/rear", rviz="true", use_pipeline="true")
    rviz = nodes(actions)["rviz2"].kwargs
    config = Path(rviz["arguments"][1])
    try:
        text = config.read_text()
    finally:
        config.unlink()
    assert "/rear/enhanced/image_raw" in text and "/rear/pipeline/annotated" in text and "/camera/" not in text


def test_multi_camera_groups(launch_stub: None) -> None:
    groups = run_launch(
        "multi_camera.launch.py",
        cameras="[/front_camera, /rear_camera]",
        detect="true",
        image="color/image_raw",
        camera_info="color/camera_info",
    )
    assert len(groups) == 2
    for group, camera in zip(groups, ("/front_camera", "/rear_camera"), strict=True):
        push, *node_actions = group.args[0]
        assert push.args == (camera,) and group.kwargs["scoped"] is True
        assert {a.kwargs["executable"] for a in node_actions} == {"enhancer", "detector"}
        assert all("namespace" not in a.kwargs for a in node_actions)  # PushRosNamespace places them
        enhancer, detector = (dict(a.kwargs["remappings"]) for a in node_actions)
        assert enhancer["camera_info"] == "color/camera_info" and enhancer["image_raw"] == "color/image_raw"
        assert detector["camera_info"] == "enhanced/camera_info"
    (group,) = run_launch("multi_camera.launch.py")  # defaults: /camera, no detector
    assert group.args[0][0].args == ("/camera",) and [a.kwargs["executable"] for a in group.args[0][1:]] == ["enhancer"]
    with pytest.raises(ValueError, match="names no camera"):
        run_launch("multi_camera.launch.py", cameras="[]")


def _log(text: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(text=text.encode())


def _handlers(actions: list, kind: str) -> list[dict]:
    """The keyword arguments of the event handlers of this kind (OnProcessIO, OnProcessExit) among ``actions``."""
    return [
        h.args[0].kwargs
        for h in actions
        if h.args and type(h.args[0]).__name__ == "Action" and kind in h.args[0].kwargs
    ]


def test_bag_replay_plays_once_every_node_is_ready(launch_stub: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FindPackageShare, "perform", lambda self, ctx: str(LAUNCH.parent))  # for rviz:=true
    with pytest.raises(ValueError, match="bag:=PATH is required"):
        run_launch("bag_replay.launch.py")
    actions = run_launch("bag_replay.launch.py", bag="/data/drive", rate="0.5", loop="true", camera="/front")
    two = nodes(actions)
    assert set(two) == {"enhancer", "detector"}
    assert all(n.kwargs["namespace"] == "/front" for n in two.values())
    assert all(n.kwargs["parameters"][1]["use_sim_time"] is True for n in two.values())
    handlers = {h["target_action"].kwargs["executable"]: h for h in _handlers(actions, "on_stderr")}
    assert set(handlers) == {"enhancer", "detector"}
    assert _handlers(actions, "on_exit") == []  # loop:=true plays until Ctrl-C

    # Nothing plays until both nodes have logged their ready line, on either stream.
    assert handlers["enhancer"]["on_stderr"](_log("[INFO] [1.0] [front.enhancer]: ready: enhancing ...")) is None
    assert handlers["detector"]["on_stdout"](_log("[INFO] [1.2] [front.detector]: loading model")) is None
    assert handlers["enhancer"]["on_stderr"](_log("[INFO] [1.3] [front.enhancer]: ready: again")) is None
    # Then the player starts paused, and is resumed start_delay later: discovered, its queue full.
    play, timer = handlers["detector"]["on_stderr"](_log("[INFO] [2.0] [front.detector]: ready: detecting on ..."))
    cmd = play.kwargs["cmd"]
    assert cmd[:8] == ["ros2", "bag", "play", "/data/drive", "--clock", "--rate", "0.5", "--read-ahead-queue-size"]
    assert int(cmd[8]) <= 100 and "--start-paused" in cmd and cmd[-1] == "--loop"
    assert timer.kwargs["period"] == 1.0
    (resume,) = timer.kwargs["actions"]
    assert resume.kwargs["cmd"] == [
        "ros2",
        "service",
        "call",
        "/rosbag2_player/resume",
        "rosbag2_interfaces/srv/Resume",
    ]
    # The camera's image topics are played best-effort, keep-last.
    overrides = Path(cmd[cmd.index("--qos-profile-overrides-path") + 1])
    try:
        profiles = yaml.safe_load(overrides.read_text())
    finally:
        overrides.unlink()
    assert set(profiles) == {"/front/image_raw", "/front/image_raw/compressed"}
    assert profiles["/front/image_raw"] == {
        "history": "keep_last",
        "depth": 5,
        "reliability": "best_effort",
        "durability": "volatile",
    }
    assert handlers["detector"]["on_stderr"](_log("[INFO] [2.1] [front.detector]: ready: x")) is None  # plays once

    one = run_launch("bag_replay.launch.py", bag="/data/drive", detect="false", rviz="true")
    assert set(nodes(one)) == {"enhancer", "rviz2"}
    waited = [h["target_action"].kwargs["executable"] for h in _handlers(one, "on_stderr")]
    assert waited == ["enhancer"]  # not rviz2
    os.unlink(nodes(one)["rviz2"].kwargs["arguments"][1])
    assert set(nodes(run_launch("bag_replay.launch.py", bag="/b", use_pipeline="true"))) == {"pipeline"}


def test_bag_replay_ends_with_the_bag(launch_stub: None) -> None:
    actions = run_launch("bag_replay.launch.py", bag="/data/drive", play_reliability="recorded")
    enhancer, detector = _handlers(actions, "on_stderr")
    assert enhancer["on_stderr"](_log("ready: enhancing")) is None  # the detector is not ready yet
    play, _ = detector["on_stderr"](_log("ready: detecting"))
    assert "--qos-profile-overrides-path" not in play.kwargs["cmd"]  # recorded: the bag's own QoS
    assert "--loop" not in play.kwargs["cmd"]
    # When the player exits, the nodes get a moment for the frames in flight, then the launch shuts down.
    (on_exit,) = _handlers(actions, "on_exit")
    assert on_exit["target_action"] is play
    (grace,) = on_exit["on_exit"]
    assert 0 < grace.kwargs["period"] <= 5
    (emit,) = grace.kwargs["actions"]
    assert "bag has played" in emit.kwargs["event"].kwargs["reason"]

    own = run_launch("bag_replay.launch.py", bag="/b", qos_overrides="/my/qos.yaml", loop="true")
    play, _ = [r for h in _handlers(own, "on_stderr") for r in (h["on_stderr"](_log("ready: x")) or [])]
    cmd = play.kwargs["cmd"]
    assert cmd[cmd.index("--qos-profile-overrides-path") + 1] == "/my/qos.yaml"
    with pytest.raises(ValueError, match="play_reliability:='fast'"):
        run_launch("bag_replay.launch.py", bag="/b", play_reliability="fast")
