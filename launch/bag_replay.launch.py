"""Replay a recorded bag with its clock and run the enhancement (and detection) pipeline on it.

    ros2 launch llie bag_replay.launch.py bag:=/data/night_drive camera:=/front_camera \
        detector_model:=/models/yolov8n.pt rate:=0.5 rviz:=true
    ros2 bag record /front_camera/enhanced/image_raw /front_camera/detections   # in another shell, to keep results
"""

from __future__ import annotations

import os

from launch import LaunchContext, LaunchDescription
from launch.actions import ExecuteProcess, IncludeLaunchDescription, OpaqueFunction, TimerAction
from launch.launch_description_sources import PythonLaunchDescriptionSource

from llie_ros.launch_actions import declare, is_true, values

HERE = os.path.dirname(os.path.abspath(__file__))
FORWARDED = (
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
NAMES = ("bag", "rate", "loop", "start_delay", "detect", *FORWARDED)


def _actions(context: LaunchContext) -> list:
    arg = values(context, NAMES)
    if not arg["bag"]:
        raise ValueError("bag:=PATH is required (a rosbag2 folder or .mcap/.db3 file)")
    detect = is_true(arg["detect"])
    launch_file = "enhance_detect.launch.py" if detect else "enhance.launch.py"
    forwarded = {
        k: arg[k] for k in FORWARDED if detect or k in ("camera", "image", "image_transport", "params_file", "model")
    }
    include = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(HERE, launch_file)),
        launch_arguments={**forwarded, "use_sim_time": "true"}.items(),
    )
    play = ["ros2", "bag", "play", arg["bag"], "--clock", "--rate", arg["rate"]]
    if is_true(arg["loop"]):
        play.append("--loop")
    # Give the nodes time to start and subscribe before the first frame is played.
    delayed_play = TimerAction(period=float(arg["start_delay"]), actions=[ExecuteProcess(cmd=play, output="screen")])
    return [include, delayed_play]


def generate_launch_description() -> LaunchDescription:
    """Arguments: bag, rate, loop, start_delay, detect, and those of enhance_detect.launch.py."""
    return LaunchDescription([*declare(NAMES, detect="true"), OpaqueFunction(function=_actions)])
