"""Enhance one camera stream.

    ros2 launch llie enhance.launch.py camera:=/front_camera
    ros2 launch llie enhance.launch.py camera:=/front_camera image:=color/image_raw model:=zero_dce_pp
    ros2 launch llie enhance.launch.py image:=/cam0/image_raw/compressed image_transport:=compressed

Reads <camera>/<image> (and <camera>/camera_info), publishes <camera>/enhanced/image_raw,
<camera>/enhanced/camera_info and <camera>/enhancer/stats.
"""

from __future__ import annotations

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from llie_ros.launch_helpers import image_remappings


def _nodes(context: LaunchContext) -> list[Node]:
    arg = {
        name: LaunchConfiguration(name).perform(context)
        for name in ("camera", "image", "camera_info", "image_transport", "params_file", "model", "use_sim_time")
    }
    overrides = {"use_sim_time": arg["use_sim_time"].lower() == "true", "image_transport": arg["image_transport"]}
    if arg["model"]:
        overrides["model"] = arg["model"]  # only when given, so params_file stays in charge otherwise
    return [
        Node(
            package="llie",
            executable="enhancer",
            name="enhancer",
            namespace=arg["camera"],
            parameters=[arg["params_file"], overrides],
            remappings=image_remappings(arg["image"], arg["camera_info"]),
            output="screen",
        )
    ]


def generate_launch_description() -> LaunchDescription:
    """Arguments: camera, image, camera_info, image_transport, params_file, model, use_sim_time."""
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
                default_value=PathJoinSubstitution([FindPackageShare("llie"), "config", "enhancer.yaml"]),
                description="enhancer parameter YAML",
            ),
            DeclareLaunchArgument(
                "model",
                default_value="",
                description="enhancement model (tiny_dce, zero_dce_pp, clahe, ...); empty: params_file",
            ),
            DeclareLaunchArgument("use_sim_time", default_value="false", description="use /clock (bag replay)"),
            OpaqueFunction(function=_nodes),
        ]
    )
