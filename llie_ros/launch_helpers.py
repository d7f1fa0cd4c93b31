"""Plain helpers of the launch files (no launch imports): topic remappings, camera lists, the rviz config, the
bag player's command line and QoS overrides."""

from __future__ import annotations

import os
import tempfile

import yaml


def image_remappings(image: str, camera_info: str | None = None) -> list[tuple[str, str]]:
    """The node's relative inputs onto the user's topics (raw and compressed transport, and camera_info if given)."""
    base = image[: -len("/compressed")] if image.endswith("/compressed") else image
    remaps = [("image_raw", base), ("image_raw/compressed", base + "/compressed")]
    return remaps if camera_info is None else [*remaps, ("camera_info", camera_info)]


def parse_cameras(text: str) -> list[str]:
    """Camera namespaces from a YAML list ("[front, rear]") or a comma-separated string ("front,rear")."""
    value = yaml.safe_load(text) if text.strip().startswith("[") else text.split(",")
    cameras = [str(c).strip() for c in (value or []) if str(c).strip()]
    if not cameras:
        raise ValueError(f"cameras:={text!r} names no camera; e.g. cameras:='[/front_camera, /rear_camera]'")
    if len(set(cameras)) != len(cameras):
        raise ValueError(f"cameras:={text!r} names a camera twice")
    return cameras


def rviz_config(template: str, camera: str, annotated: str) -> str:
    """A copy of the rviz config with its /camera topics moved to this camera's namespace."""
    with open(template, encoding="utf-8") as f:
        text = f.read()
    ns = "/" + camera.strip("/") if camera.strip("/") else ""
    text = text.replace("/camera/detector/annotated", f"{ns}/{annotated}").replace("/camera/", f"{ns}/")
    fd, path = tempfile.mkstemp(prefix="llie_", suffix=".rviz")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path


# `ros2 bag play --read-ahead-queue-size`: messages read ahead of playback. rosbag2's default, 1000 messages, is
# ~500 raw 1080p frames (3 GB in the player), filled at every loop's start with the clock already running: the
# first seconds of the drive then came out in one burst, which keep-latest nodes dropped. 100 messages still keep a
# bag of small messages ahead of its clock.
READ_AHEAD = 100
# The player starts paused (its queue fills and the nodes discover its publishers meanwhile) and is resumed by
# this call after start_delay, so the drive plays from its first frame at its own pace.
RESUME_COMMAND = ["ros2", "service", "call", "/rosbag2_player/resume", "rosbag2_interfaces/srv/Resume"]
PLAY_RELIABILITY = ("best_effort", "reliable", "recorded")


def camera_topic(camera: str, name: str) -> str:
    """The absolute name of ``name`` below the camera namespace (an absolute ``name`` is kept)."""
    if name.startswith("/"):
        return name
    ns = camera.strip("/")
    return f"/{ns}/{name}" if ns else f"/{name}"


def play_qos_overrides(topics: list[str], reliability: str, depth: int = 5) -> str | None:
    """A ``--qos-profile-overrides-path`` file publishing ``topics`` with this reliability (keep-last ``depth``).

    None for "recorded" (the player offers each topic's recorded QoS). Written to a temporary file like the rviz
    config, since ``ros2 bag play`` reads it at start.
    """
    if reliability not in PLAY_RELIABILITY:
        raise ValueError(f"play_reliability:={reliability!r}; one of {', '.join(PLAY_RELIABILITY)}")
    if reliability == "recorded":
        return None
    profile = {"history": "keep_last", "depth": depth, "reliability": reliability, "durability": "volatile"}
    fd, path = tempfile.mkstemp(prefix="llie_play_qos_", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        yaml.safe_dump({topic: dict(profile) for topic in topics}, f)
    return path


def play_command(bag: str, rate: str, loop: bool, qos_overrides: str | None) -> list[str]:
    """``ros2 bag play`` paused (see RESUME_COMMAND), publishing /clock, at ``rate``, with a short read-ahead
    (READ_AHEAD) and QoS overrides."""
    command = ["ros2", "bag", "play", bag, "--clock", "--rate", rate, "--read-ahead-queue-size", str(READ_AHEAD)]
    command.append("--start-paused")
    if qos_overrides:
        command += ["--qos-profile-overrides-path", qos_overrides]
    if loop:
        command.append("--loop")
    return command
