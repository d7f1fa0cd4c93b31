"""Plain helpers of the launch files (no launch imports): topic remappings, camera lists, the rviz config."""

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
