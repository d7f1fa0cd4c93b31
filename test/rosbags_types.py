"""Real ROS 2 message classes for tests, from rosbags (vision_msgs registered from its Humble/Jazzy definitions)."""

from __future__ import annotations

from typing import Any

# vision_msgs 4.x (Humble, Jazzy): not in rosbags' built-in stores.
VISION_MSGS = {
    "vision_msgs/msg/Point2D": "float64 x\nfloat64 y\n",
    "vision_msgs/msg/Pose2D": "vision_msgs/Point2D position\nfloat64 theta\n",
    "vision_msgs/msg/BoundingBox2D": "vision_msgs/Pose2D center\nfloat64 size_x\nfloat64 size_y\n",
    "vision_msgs/msg/ObjectHypothesis": "string class_id\nfloat64 score\n",
    "vision_msgs/msg/ObjectHypothesisWithPose": (
        "vision_msgs/ObjectHypothesis hypothesis\ngeometry_msgs/PoseWithCovariance pose\n"
    ),
    "vision_msgs/msg/Detection2D": (
        "std_msgs/Header header\nvision_msgs/ObjectHypothesisWithPose[] results\n"
        "vision_msgs/BoundingBox2D bbox\nstring id\n"
    ),
    "vision_msgs/msg/Detection2DArray": "std_msgs/Header header\nvision_msgs/Detection2D[] detections\n",
}


def typestore() -> Any:
    """A ROS 2 Humble typestore with vision_msgs registered."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    types: dict = {}
    for name, text in VISION_MSGS.items():
        types.update(get_types_from_msg(text, name))
    store.register(types)
    return store


def header(store: Any, sec: int = 1_700_000_123, nanosec: int = 456_789, frame_id: str = "cam") -> Any:
    """A std_msgs/Header with a distinctive stamp."""
    time = store.types["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec)
    return store.types["std_msgs/msg/Header"](stamp=time, frame_id=frame_id)


def register_llie(store: Any) -> Any:
    """Register the package's own interfaces (msg/*.msg) in ``store``; returns the store."""
    from pathlib import Path

    from rosbags.typesys import get_types_from_msg

    types: dict = {}
    for path in sorted((Path(__file__).resolve().parents[1] / "msg").glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"llie/msg/{path.stem}"))
    store.register(types)
    return store
