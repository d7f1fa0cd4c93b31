"""Replay a recorded bag with its clock and run the enhancement (and detection) pipeline on it.

    ros2 launch llie bag_replay.launch.py bag:=/data/night_drive camera:=/front_camera \
        detector_model:=/models/yolov8n.pt rate:=0.5 rviz:=true
    ros2 bag record /front_camera/enhanced/image_raw /front_camera/detections   # in another shell, to keep results

Playback starts once every node has logged that it is ready (subscribed, models loaded), then start_delay.
"""

from __future__ import annotations

from launch import LaunchContext, LaunchDescription
from launch.actions import ExecuteProcess, OpaqueFunction, TimerAction

from llie_ros.launch_actions import camera_nodes, declare, is_true, rviz_node, values, when_ready

NAMES = (
    "bag",
    "rate",
    "loop",
    "start_delay",
    "detect",
    "camera",
    "image",
    "image_transport",
    "params_file",
    "detector_params_file",
    "pipeline_params_file",
    "model",
    "detector_model",
    "use_pipeline",
    "rviz",
)


def _actions(context: LaunchContext) -> list:
    arg = {**values(context, NAMES), "use_sim_time": "true"}
    if not arg["bag"]:
        raise ValueError("bag:=PATH is required (a rosbag2 folder or .mcap/.db3 file)")
    nodes = camera_nodes(arg, detect=is_true(arg["detect"]))
    command = ["ros2", "bag", "play", arg["bag"], "--clock", "--rate", arg["rate"]]
    if is_true(arg["loop"]):
        command.append("--loop")
    # Play once every node is subscribed with its models warm (a YOLO load takes seconds), plus start_delay
    # for the player's publishers to be discovered: otherwise the first seconds of the drive go unprocessed.
    play = TimerAction(period=float(arg["start_delay"]), actions=[ExecuteProcess(cmd=command, output="screen")])
    actions = [*nodes, *when_ready(nodes, [play])]
    if is_true(arg["rviz"]):
        actions.append(rviz_node(context, arg))
    return actions


def generate_launch_description() -> LaunchDescription:
    """Arguments: bag, rate, loop, start_delay, detect, and those of enhance_detect.launch.py."""
    return LaunchDescription([*declare(NAMES, detect="true"), OpaqueFunction(function=_actions)])
