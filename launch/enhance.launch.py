"""Enhance one camera stream.

    ros2 launch llie enhance.launch.py camera:=/front_camera
    ros2 launch llie enhance.launch.py camera:=/front_camera image:=color/image_raw model:=zero_dce_pp
    ros2 launch llie enhance.launch.py image:=/cam0/image_raw/compressed image_transport:=compressed

Reads <camera>/<image> (and <camera>/camera_info), publishes <camera>/enhanced/image_raw,
<camera>/enhanced/camera_info and <camera>/enhancer/stats.
"""

from __future__ import annotations

from launch import LaunchContext, LaunchDescription
from launch.actions import OpaqueFunction

from llie_ros.launch_actions import declare, enhancer_node, values

NAMES = ("camera", "image", "camera_info", "image_transport", "params_file", "model", "use_sim_time")


def _nodes(context: LaunchContext) -> list:
    arg = values(context, NAMES)
    return [enhancer_node(arg, arg["camera"])]


def generate_launch_description() -> LaunchDescription:
    """Arguments: camera, image, camera_info, image_transport, params_file, model, use_sim_time."""
    return LaunchDescription([*declare(NAMES), OpaqueFunction(function=_nodes)])
