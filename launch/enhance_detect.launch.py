"""Enhance one camera and run YOLO on the enhanced image.

    ros2 launch llie enhance_detect.launch.py camera:=/front_camera detector_model:=/models/yolov8n.pt
    ros2 launch llie enhance_detect.launch.py camera:=/front_camera detector_model:=/models/yolov8n.engine \
        use_pipeline:=true rviz:=true

Two nodes (enhancer + detector, detector remapped onto enhanced/image_raw) or, with use_pipeline:=true,
one `pipeline` node that does both on one copy of the frame. Detections: <camera>/detections.
"""

from __future__ import annotations

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from llie_ros.launch_helpers import image_remappings, rviz_config

NAMES = (
    "camera",
    "image",
    "camera_info",
    "image_transport",
    "params_file",
    "detector_params_file",
    "pipeline_params_file",
    "model",
    "detector_model",
    "use_pipeline",
    "rviz",
    "use_sim_time",
)


def _nodes(context: LaunchContext) -> list[Node]:
    arg = {name: LaunchConfiguration(name).perform(context) for name in NAMES}
    sim = {"use_sim_time": arg["use_sim_time"].lower() == "true"}
    pipeline = arg["use_pipeline"].lower() == "true"
    remaps = image_remappings(arg["image"], arg["camera_info"])
    nodes = []
    if pipeline:
        overrides = {**sim, "image_transport": arg["image_transport"]}
        if arg["model"]:
            overrides["model"] = arg["model"]
        if arg["detector_model"]:
            overrides["detector.model"] = arg["detector_model"]
        nodes.append(
            Node(
                package="llie",
                executable="pipeline",
                name="pipeline",
                namespace=arg["camera"],
                parameters=[arg["pipeline_params_file"], overrides],
                remappings=remaps,
                output="screen",
            )
        )
    else:
        enh = {**sim, "image_transport": arg["image_transport"]}
        if arg["model"]:
            enh["model"] = arg["model"]
        det = dict(sim)
        if arg["detector_model"]:
            det["model"] = arg["detector_model"]
        nodes.append(
            Node(
                package="llie",
                executable="enhancer",
                name="enhancer",
                namespace=arg["camera"],
                parameters=[arg["params_file"], enh],
                remappings=remaps,
                output="screen",
            )
        )
        nodes.append(
            Node(
                package="llie",
                executable="detector",
                name="detector",
                namespace=arg["camera"],
                parameters=[arg["detector_params_file"], det],
                remappings=[("image", "enhanced/image_raw")],
                output="screen",
            )
        )
    if arg["rviz"].lower() == "true":
        template = PathJoinSubstitution([FindPackageShare("llie"), "config", "llie.rviz"]).perform(context)
        config = rviz_config(template, arg["camera"], "pipeline/annotated" if pipeline else "detector/annotated")
        nodes.append(
            Node(
                package="rviz2",
                executable="rviz2",
                name="rviz2",
                arguments=["-d", config],
                parameters=[sim],
                output="screen",
            )
        )
    return nodes


def generate_launch_description() -> LaunchDescription:
    """Arguments: camera, image, camera_info, image_transport, *params_file, model, detector_model, ..."""
    share = FindPackageShare("llie")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "camera", default_value="/camera", description="camera namespace; topics below are relative to it"
            ),
            DeclareLaunchArgument(
                "image", default_value="image_raw", description="input image topic (relative to camera, or absolute)"
            ),
            DeclareLaunchArgument(
                "camera_info",
                default_value="camera_info",
                description="camera_info topic republished as enhanced/camera_info",
            ),
            DeclareLaunchArgument(
                "image_transport",
                default_value="raw",
                description="raw: sensor_msgs/Image; compressed: <image>/compressed",
            ),
            DeclareLaunchArgument(
                "params_file",
                default_value=PathJoinSubstitution([share, "config", "enhancer.yaml"]),
                description="enhancer parameter YAML",
            ),
            DeclareLaunchArgument(
                "detector_params_file",
                default_value=PathJoinSubstitution([share, "config", "detector.yaml"]),
                description="detector parameter YAML",
            ),
            DeclareLaunchArgument(
                "pipeline_params_file",
                default_value=PathJoinSubstitution([share, "config", "pipeline.yaml"]),
                description="pipeline parameter YAML (use_pipeline:=true)",
            ),
            DeclareLaunchArgument("model", default_value="", description="enhancement model; empty: the params file's"),
            DeclareLaunchArgument(
                "detector_model",
                default_value="",
                description="local YOLO model file (.pt, .onnx, .engine); empty: the params file's",
            ),
            DeclareLaunchArgument(
                "use_pipeline",
                default_value="false",
                description="true: one pipeline node (lowest latency) instead of enhancer + detector",
            ),
            DeclareLaunchArgument(
                "rviz", default_value="false", description="start rviz2 with raw, enhanced and annotated images"
            ),
            DeclareLaunchArgument("use_sim_time", default_value="false", description="use /clock (bag replay)"),
            OpaqueFunction(function=_nodes),
        ]
    )
