"""Enhance one camera and run YOLO on the enhanced image.

    ros2 launch llie enhance_detect.launch.py camera:=/front_camera detector_model:=/models/yolov8n.pt
    ros2 launch llie enhance_detect.launch.py camera:=/front_camera detector_model:=/models/yolov8n.engine \
        use_pipeline:=true rviz:=true

Two nodes (enhancer + detector, detector remapped onto enhanced/image_raw) or, with use_pipeline:=true,
one `pipeline` node that does both on one copy of the frame. Detections: <camera>/detections.
"""

from __future__ import annotations

from launch import LaunchContext, LaunchDescription
from launch.actions import OpaqueFunction

from llie_ros.launch_actions import camera_nodes, declare, is_true, rviz_node, values

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


def _nodes(context: LaunchContext) -> list:
    arg = values(context, NAMES)
    nodes = camera_nodes(arg)
    if is_true(arg["rviz"]):
        nodes.append(rviz_node(context, arg))
    return nodes


def generate_launch_description() -> LaunchDescription:
    """Arguments: camera, image, camera_info, image_transport, *params_file, model, detector_model, ..."""
    return LaunchDescription([*declare(NAMES), OpaqueFunction(function=_nodes)])
