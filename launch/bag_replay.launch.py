"""Replay a recorded bag with its clock and run the enhancement (and detection) pipeline on it.

    ros2 launch llie bag_replay.launch.py bag:=/data/night_drive camera:=/front_camera \
        detector_model:=/models/yolov8n.pt rate:=0.5 rviz:=true
    ros2 bag record /front_camera/enhanced/image_raw /front_camera/detections   # in another shell, to keep results
"""

from __future__ import annotations

import os

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, IncludeLaunchDescription, OpaqueFunction, TimerAction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

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


def _actions(context: LaunchContext) -> list:
    arg = {
        name: LaunchConfiguration(name).perform(context)
        for name in (*FORWARDED, "bag", "rate", "loop", "start_delay", "detect")
    }
    if not arg["bag"]:
        raise ValueError("bag:=PATH is required (a rosbag2 folder or .mcap/.db3 file)")
    detect = arg["detect"].lower() == "true"
    launch_file = "enhance_detect.launch.py" if detect else "enhance.launch.py"
    forwarded = {
        k: arg[k] for k in FORWARDED if detect or k in ("camera", "image", "image_transport", "params_file", "model")
    }
    include = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(HERE, launch_file)),
        launch_arguments={**forwarded, "use_sim_time": "true"}.items(),
    )
    play = ["ros2", "bag", "play", arg["bag"], "--clock", "--rate", arg["rate"]]
    if arg["loop"].lower() == "true":
        play.append("--loop")
    # Give the nodes time to start and subscribe before the first frame is played.
    delayed_play = TimerAction(period=float(arg["start_delay"]), actions=[ExecuteProcess(cmd=play, output="screen")])
    return [include, delayed_play]


def generate_launch_description() -> LaunchDescription:
    """Arguments: bag, rate, loop, start_delay, detect, and those of enhance_detect.launch.py."""
    share = FindPackageShare("llie")
    return LaunchDescription(
        [
            DeclareLaunchArgument("bag", default_value="", description="rosbag2 to play (folder or file); required"),
            DeclareLaunchArgument("rate", default_value="1.0", description="playback rate"),
            DeclareLaunchArgument("loop", default_value="false", description="replay the bag in a loop"),
            DeclareLaunchArgument(
                "start_delay", default_value="2.0", description="seconds to wait for the nodes before playing"
            ),
            DeclareLaunchArgument("detect", default_value="true", description="also run YOLO on the enhanced images"),
            DeclareLaunchArgument(
                "camera", default_value="/camera", description="camera namespace recorded in the bag"
            ),
            DeclareLaunchArgument("image", default_value="image_raw", description="image topic inside the camera"),
            DeclareLaunchArgument("image_transport", default_value="raw", description="raw or compressed"),
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
                description="pipeline parameter YAML",
            ),
            DeclareLaunchArgument("model", default_value="", description="enhancement model; empty: the params file's"),
            DeclareLaunchArgument("detector_model", default_value="", description="local YOLO model file"),
            DeclareLaunchArgument(
                "use_pipeline", default_value="false", description="one pipeline node instead of two"
            ),
            DeclareLaunchArgument("rviz", default_value="false", description="start rviz2"),
            OpaqueFunction(function=_actions),
        ]
    )
