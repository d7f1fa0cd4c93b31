"""Replay a recorded bag with its clock and run the enhancement (and detection) pipeline on it.

    ros2 launch llie bag_replay.launch.py bag:=/data/night_drive camera:=/front_camera \
        detector_model:=/models/yolov8n.pt rate:=0.5 rviz:=true
    ros2 bag record /front_camera/enhanced/image_raw /front_camera/detections   # in another shell, to keep results

The player starts paused once every node has logged that it is ready (subscribed, models loaded) and plays
start_delay later, from the first frame at the bag's pace. It publishes the camera's image topics best effort
(play_reliability) and reads only a little ahead (launch_helpers.READ_AHEAD); the launch ends when the bag has
played (unless loop:=true).
"""

from __future__ import annotations

from launch import LaunchContext, LaunchDescription
from launch.actions import EmitEvent, ExecuteProcess, OpaqueFunction, RegisterEventHandler, TimerAction
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown

from llie_ros.launch_actions import camera_nodes, declare, is_true, rviz_node, values, when_ready
from llie_ros.launch_helpers import RESUME_COMMAND, camera_topic, play_command, play_qos_overrides

NAMES = (
    "bag",
    "rate",
    "loop",
    "start_delay",
    "play_reliability",
    "qos_overrides",
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

# Seconds the nodes get after the player exits, before the launch shuts them down: to finish the frames in flight
# and publish a last /diagnostics report (1 Hz) with the final counts (an ended stream is settled after 1 s idle).
END_GRACE_S = 3.0


def _actions(context: LaunchContext) -> list:
    arg = {**values(context, NAMES), "use_sim_time": "true"}
    if not arg["bag"]:
        raise ValueError("bag:=PATH is required (a rosbag2 folder or .mcap/.db3 file)")
    nodes = camera_nodes(arg, detect=is_true(arg["detect"]))
    image = camera_topic(arg["camera"], arg["image"].removesuffix("/compressed"))
    qos = arg["qos_overrides"] or play_qos_overrides([image, image + "/compressed"], arg["play_reliability"])
    loop = is_true(arg["loop"])
    play = ExecuteProcess(cmd=play_command(arg["bag"], arg["rate"], loop, qos), name="bag_play", output="screen")
    # Start the player (paused) once every node is subscribed with its models warm (a YOLO load takes seconds),
    # and resume it start_delay later, once its publishers are discovered and its queue is full: otherwise the
    # first seconds of the drive go unprocessed.
    resume = ExecuteProcess(cmd=RESUME_COMMAND, name="bag_resume", output="log")
    actions = [*nodes, *when_ready(nodes, [play, TimerAction(period=float(arg["start_delay"]), actions=[resume])])]
    if not loop:
        stop = EmitEvent(event=Shutdown(reason="the bag has played"))
        actions.append(
            RegisterEventHandler(
                OnProcessExit(target_action=play, on_exit=[TimerAction(period=END_GRACE_S, actions=[stop])])
            )
        )
    if is_true(arg["rviz"]):
        actions.append(rviz_node(context, arg))
    return actions


def generate_launch_description() -> LaunchDescription:
    """Arguments: bag, rate, loop, start_delay, play_reliability, qos_overrides, detect, and enhance_detect's."""
    return LaunchDescription([*declare(NAMES, detect="true"), OpaqueFunction(function=_actions)])
