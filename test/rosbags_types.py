"""Real ROS 2 message classes for tests, from rosbags (vision_msgs registered from its Humble/Jazzy definitions)."""

from __future__ import annotations

from typing import Any


def typestore() -> Any:
    """A ROS 2 Humble typestore with vision_msgs and llie/msg registered (the bag tools' own)."""
    from llie_core.bag.io import new_typestore

    return new_typestore()


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
