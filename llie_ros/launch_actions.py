"""The launch arguments and node actions the launch files share: each argument declared once, each node built once.

Only launch files import this (it needs ROS 2 `launch` and `launch_ros`); the plain helpers it uses live in
``launch_helpers``, which tests import without ROS.
"""

from __future__ import annotations

from collections.abc import Callable

from launch import LaunchContext
from launch.actions import DeclareLaunchArgument, RegisterEventHandler
from launch.event_handlers import OnProcessIO
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from llie_ros.launch_helpers import image_remappings, rviz_config
from llie_ros.logic import READY


def _config(name: str) -> PathJoinSubstitution:
    return PathJoinSubstitution([FindPackageShare("llie"), "config", name])


# name: (default, description)
ARGUMENTS: dict[str, tuple[str | PathJoinSubstitution, str]] = {
    "camera": ("/camera", "camera namespace; topics below are relative to it"),
    "cameras": ("[/camera]", "camera namespaces: '[/front_camera, /rear_camera]' or 'front,rear'"),
    "image": ("image_raw", "input image topic (relative to camera, or absolute)"),
    "camera_info": ("camera_info", "camera_info topic republished as enhanced/camera_info"),
    "image_transport": ("raw", "raw: sensor_msgs/Image; compressed: <image>/compressed"),
    "params_file": (_config("enhancer.yaml"), "enhancer parameter YAML"),
    "detector_params_file": (_config("detector.yaml"), "detector parameter YAML"),
    "pipeline_params_file": (_config("pipeline.yaml"), "pipeline parameter YAML (use_pipeline:=true)"),
    "model": ("", "enhancement model (tiny_dce, zero_dce_pp, clahe, ...); empty: the params file's"),
    "detector_model": ("", "local YOLO model file (.pt, .onnx, .engine); empty: the params file's"),
    "use_pipeline": ("false", "true: one pipeline node (lowest latency) instead of enhancer + detector"),
    "detect": ("false", "also run YOLO on the enhanced images"),
    "rviz": ("false", "start rviz2 with raw, enhanced and annotated images"),
    "use_sim_time": ("false", "use /clock (bag replay)"),
    "bag": ("", "rosbag2 to play (folder or file); required"),
    "rate": ("1.0", "playback rate"),
    "loop": ("false", "replay the bag in a loop; otherwise everything stops when the bag has played"),
    "start_delay": ("1.0", "seconds between the nodes reporting ready and the first frame played"),
    "play_reliability": (
        "best_effort",
        "QoS the player publishes the camera's image topics with: best_effort (keep-last 5), reliable, or recorded "
        "(as in the bag). A reliable player stalled the nodes' best-effort subscriptions on raw 1080p frames",
    ),
    "qos_overrides": ("", "a ros2 bag play --qos-profile-overrides-path file; replaces play_reliability's"),
}


def declare(names: tuple[str, ...], **defaults: str) -> list[DeclareLaunchArgument]:
    """DeclareLaunchArgument actions for names, with the shared defaults unless given here."""
    return [
        DeclareLaunchArgument(
            name, default_value=defaults.get(name, ARGUMENTS[name][0]), description=ARGUMENTS[name][1]
        )
        for name in names
    ]


def values(context: LaunchContext, names: tuple[str, ...]) -> dict[str, str]:
    """The launch arguments' values as strings."""
    return {name: LaunchConfiguration(name).perform(context) for name in names}


def is_true(value: str) -> bool:
    """A launch argument's boolean ("true"/"True"/"false")."""
    return value.lower() == "true"


def _sim(arg: dict[str, str]) -> dict[str, bool]:
    return {"use_sim_time": is_true(arg.get("use_sim_time", "false"))}


def _enhancement(arg: dict[str, str]) -> dict:
    overrides = {**_sim(arg), "image_transport": arg["image_transport"]}
    if arg["model"]:
        overrides["model"] = arg["model"]  # only when given, so the params file stays in charge otherwise
    return overrides


def enhancer_node(arg: dict[str, str], namespace: str | None) -> Node:
    """The enhancer on <image> (and <camera_info> when that argument exists)."""
    remappings = image_remappings(arg["image"], arg.get("camera_info"))
    return _node("enhancer", namespace, [arg["params_file"], _enhancement(arg)], remappings)


# The detector reads the enhancer's outputs: the enhanced image and the camera_info the enhancer republishes
# (whatever the camera_info argument named), whose stamps tell the detector the frames it never got.
DETECTOR_REMAPPINGS = [("image", "enhanced/image_raw"), ("camera_info", "enhanced/camera_info")]


def detector_node(arg: dict[str, str], namespace: str | None) -> Node:
    """The detector on the enhancer's output."""
    overrides = _sim(arg)
    if arg["detector_model"]:
        overrides["model"] = arg["detector_model"]
    return _node("detector", namespace, [arg["detector_params_file"], overrides], list(DETECTOR_REMAPPINGS))


def pipeline_node(arg: dict[str, str], namespace: str | None) -> Node:
    """Enhancement and detection in one node, on <image> (and <camera_info>)."""
    overrides = _enhancement(arg)
    if arg["detector_model"]:
        overrides["detector.model"] = arg["detector_model"]
    remappings = image_remappings(arg["image"], arg.get("camera_info"))
    return _node("pipeline", namespace, [arg["pipeline_params_file"], overrides], remappings)


def camera_nodes(arg: dict[str, str], detect: bool = True) -> list[Node]:
    """One camera's llie nodes: enhancer + detector, the pipeline (use_pipeline), or the enhancer alone."""
    camera = arg["camera"]
    if not detect:
        return [enhancer_node(arg, camera)]
    if is_true(arg["use_pipeline"]):
        return [pipeline_node(arg, camera)]
    return [enhancer_node(arg, camera), detector_node(arg, camera)]


def rviz_node(context: LaunchContext, arg: dict[str, str]) -> Node:
    """rviz2 with the package's config moved to this camera's topics (and the pipeline's annotated image)."""
    annotated = "pipeline/annotated" if is_true(arg.get("use_pipeline", "false")) else "detector/annotated"
    config = rviz_config(_config("llie.rviz").perform(context), arg["camera"], annotated)
    return Node(
        package="rviz2",
        executable="rviz2",
        name="rviz2",
        arguments=["-d", config],
        parameters=[_sim(arg)],
        output="screen",
    )


def when_ready(nodes: list[Node], actions: list) -> list[RegisterEventHandler]:
    """Handlers that run ``actions`` once, after every node has logged its ready line."""
    waiting = set(range(len(nodes)))

    def watcher(index: int) -> Callable:
        def on_output(event) -> list | None:
            if index in waiting and READY in event.text.decode(errors="replace"):
                waiting.discard(index)
                if not waiting:
                    return actions
            return None

        return on_output

    # rclpy logs to stderr unless RCUTILS_LOGGING_USE_STDOUT is set: watch both
    return [
        RegisterEventHandler(OnProcessIO(target_action=node, on_stdout=watcher(i), on_stderr=watcher(i)))
        for i, node in enumerate(nodes)
    ]


def _node(executable: str, namespace: str | None, parameters: list, remappings: list[tuple[str, str]]) -> Node:
    placed = {} if namespace is None else {"namespace": namespace}  # None: a PushRosNamespace places it
    return Node(
        package="llie",
        executable=executable,
        name=executable,
        parameters=parameters,
        remappings=remappings,
        output="screen",
        **placed,
    )
