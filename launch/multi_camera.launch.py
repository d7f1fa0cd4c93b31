"""One enhancer (and optionally one detector) per camera, each in its camera's namespace.

ros2 launch llie multi_camera.launch.py cameras:="[/front_camera, /rear_camera]"
ros2 launch llie multi_camera.launch.py cameras:=front,left,right detect:=true detector_model:=/m/yolov8n.onnx
"""

from __future__ import annotations

from launch import LaunchContext, LaunchDescription
from launch.actions import GroupAction, OpaqueFunction
from launch_ros.actions import PushRosNamespace

from llie_ros.launch_actions import declare, detector_node, enhancer_node, is_true, values
from llie_ros.launch_helpers import parse_cameras

NAMES = (
    "cameras",
    "image",
    "camera_info",
    "image_transport",
    "params_file",
    "detector_params_file",
    "model",
    "detect",
    "detector_model",
    "use_sim_time",
)


def _groups(context: LaunchContext) -> list[GroupAction]:
    arg = values(context, NAMES)
    groups = []
    for camera in parse_cameras(arg["cameras"]):
        nodes = [enhancer_node(arg, None)]
        if is_true(arg["detect"]):
            nodes.append(detector_node(arg, None))
        groups.append(GroupAction([PushRosNamespace(camera), *nodes], scoped=True))
    return groups


def generate_launch_description() -> LaunchDescription:
    """Arguments: cameras (list), image, camera_info, image_transport, params files, model, detect, detector_model."""
    return LaunchDescription([*declare(NAMES), OpaqueFunction(function=_groups)])
