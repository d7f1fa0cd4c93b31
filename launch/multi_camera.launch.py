"""One enhancer (and optionally one detector) per camera, each in its camera's namespace.

ros2 launch llie multi_camera.launch.py cameras:="[/front_camera, /rear_camera]"
ros2 launch llie multi_camera.launch.py cameras:=front,left,right detect:=true detector_model:=/m/yolov8n.onnx
"""

from __future__ import annotations

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node, PushRosNamespace
from launch_ros.substitutions import FindPackageShare

from llie_ros.launch_helpers import image_remappings, parse_cameras

NAMES = (
    "cameras",
    "image",
    "image_transport",
    "params_file",
    "detector_params_file",
    "model",
    "detect",
    "detector_model",
    "use_sim_time",
)


def _groups(context: LaunchContext) -> list[GroupAction]:
    arg = {name: LaunchConfiguration(name).perform(context) for name in NAMES}
    sim = {"use_sim_time": arg["use_sim_time"].lower() == "true"}
    enh = {**sim, "image_transport": arg["image_transport"]}
    if arg["model"]:
        enh["model"] = arg["model"]
    det = dict(sim)
    if arg["detector_model"]:
        det["model"] = arg["detector_model"]
    groups = []
    for camera in parse_cameras(arg["cameras"]):
        actions = [
            PushRosNamespace(camera),
            Node(
                package="llie",
                executable="enhancer",
                name="enhancer",
                parameters=[arg["params_file"], enh],
                remappings=image_remappings(arg["image"]),
                output="screen",
            ),
        ]
        if arg["detect"].lower() == "true":
            actions.append(
                Node(
                    package="llie",
                    executable="detector",
                    name="detector",
                    parameters=[arg["detector_params_file"], det],
                    remappings=[("image", "enhanced/image_raw")],
                    output="screen",
                )
            )
        groups.append(GroupAction(actions, scoped=True))
    return groups


def generate_launch_description() -> LaunchDescription:
    """Arguments: cameras (list), image, image_transport, params files, model, detect, detector_model, use_sim_time."""
    share = FindPackageShare("llie")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "cameras",
                default_value="[/camera]",
                description="camera namespaces: '[/front_camera, /rear_camera]' or 'front,rear'",
            ),
            DeclareLaunchArgument("image", default_value="image_raw", description="image topic inside each camera"),
            DeclareLaunchArgument("image_transport", default_value="raw", description="raw or compressed"),
            DeclareLaunchArgument(
                "params_file",
                default_value=PathJoinSubstitution([share, "config", "enhancer.yaml"]),
                description="enhancer parameter YAML (shared by all cameras)",
            ),
            DeclareLaunchArgument(
                "detector_params_file",
                default_value=PathJoinSubstitution([share, "config", "detector.yaml"]),
                description="detector parameter YAML",
            ),
            DeclareLaunchArgument("model", default_value="", description="enhancement model; empty: the params file's"),
            DeclareLaunchArgument("detect", default_value="false", description="also run a detector per camera"),
            DeclareLaunchArgument("detector_model", default_value="", description="local YOLO model file"),
            DeclareLaunchArgument("use_sim_time", default_value="false", description="use /clock (bag replay)"),
            OpaqueFunction(function=_groups),
        ]
    )
