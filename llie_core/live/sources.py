"""Where ``llie live`` gets its frames: a camera index, a video file, a stream URL (RTSP, HTTP MJPEG) or a ROS bag.

Cameras and URLs are read with OpenCV's VideoCapture and pace themselves (``live``); files and bags are recordings
that the feed can pace at their own rate. Every frame carries two times: ``stamp_ns``, published with it (the time it
was read for live sources, the file's timeline from the moment it was opened for videos, the header stamp for bags),
and ``source_ns``, the source's own timeline, which paces recordings and counts frames lost before llie from its
gaps (a stream's presentation times, a camera driver's buffer times; None where the source has none, so that read
jitter is never taken for loss).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

# Files that are bags rather than videos (a bag folder holds metadata.yaml and/or these).
BAG_SUFFIXES = (".mcap", ".db3", ".bag")


class SourceError(ValueError):
    """A source that cannot be opened or read: the text names it and what is wrong."""


@dataclass
class SourceFrame:
    """One frame: the decoded array in its working encoding and its times, or why it could not be decoded."""

    array: np.ndarray | None
    encoding: str
    stamp_ns: int | None  # published with the frame
    source_ns: int | None = None  # the source's timeline: pacing, frames lost before llie
    error: str = ""


class FrameSource:
    """Base of the sources: ``frames()`` yields SourceFrames in order until the source ends; ``close()`` releases it."""

    name: str = ""
    live: bool = False  # paces itself (camera, stream); recordings can be paced by the feed
    fps: float | None = None  # nominal frame rate, when known
    # Called with the stamp of each camera_info message of the camera (bags), for the frame-loss count.
    on_camera_info: Callable[[int], None] | None = None

    def frames(self) -> Iterator[SourceFrame]:
        """The frames, in order."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the device, stream or file."""


class CaptureSource(FrameSource):
    """A camera index, stream URL or video file through cv2.VideoCapture; files can loop."""

    def __init__(self, target: int | str, name: str, live: bool, loop: bool = False) -> None:
        self.name, self.live, self.loop = name, live, loop
        self._cap = cv2.VideoCapture(target)
        if not self._cap.isOpened():
            self._cap.release()
            if isinstance(target, int):
                raise SourceError(f"camera {target}: cannot open it (no such device, no permission, or in use)")
            if live:
                raise SourceError(
                    f"{name}: cannot open the stream (unreachable, or not a format OpenCV's FFmpeg reads)"
                )
            raise SourceError(f"{name}: not a readable video")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 0 < fps < 1000 else None
        self._start_ns = time.time_ns()

    def frames(self) -> Iterator[SourceFrame]:
        """Frames as BGR uint8; a file's stamps follow its frame rate (30 fps when it has none)."""
        period_ns = 1e9 / (self.fps or 30.0)
        index = 0
        last_pos = -1.0
        while True:
            ok, frame = self._cap.read()
            if not ok:
                if index == 0:
                    raise SourceError(f"{self.name}: opened, but no frame could be read")
                if self.live or not self.loop:
                    return
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)  # loop: the timeline runs on
                ok, frame = self._cap.read()
                if not ok:
                    return
            if self.live:
                stamp, pos = time.time_ns(), self._cap.get(cv2.CAP_PROP_POS_MSEC)
                # The stream's own clock, where it has one that advances (a constant 0 or -1 means none).
                timeline = self._start_ns + round(pos * 1e6) if pos > last_pos and pos >= 0 else None
                last_pos = max(last_pos, pos)
            else:
                stamp = timeline = self._start_ns + round(index * period_ns)
            index += 1
            encoding = "mono8" if frame.ndim == 2 else "bgr8"
            yield SourceFrame(frame, encoding, stamp, timeline)

    def close(self) -> None:
        """Release the capture."""
        self._cap.release()


class BagSource(FrameSource):
    """One image topic of a ROS bag (default: its first camera stream), with its camera_info for frame loss."""

    def __init__(self, path: Path, topic: str | None = None, loop: bool = False) -> None:
        try:
            from llie_core.bag.enhance import select_topics
            from llie_core.bag.io import CAMERA_INFO_TYPE, camera_info_topic, camera_topic, open_reader
        except ImportError as exc:
            raise SourceError(f"{path}: reading bags needs the bag extra (pip install 'llie[bag]'): {exc}") from exc

        self.name, self.loop, self._path = str(path), loop, path
        self._reader: Any = open_reader(path)  # BagError names the bag
        conns = select_topics(self._reader, [topic] if topic else None)
        self.topic = topic or camera_topic(c.topic for c in conns)
        self.name = f"{path} {self.topic}"
        self._images = [c for c in conns if c.topic == self.topic]
        info = camera_info_topic(self.topic)
        self._infos = [c for c in self._reader.connections if c.topic == info and c.msgtype == CAMERA_INFO_TYPE]
        self._info_type = CAMERA_INFO_TYPE
        count = sum(int(getattr(c, "msgcount", 0) or 0) for c in self._images)
        duration = (getattr(self._reader, "duration", 0) or 0) / 1e9
        self.fps = count / duration if count > 1 and duration > 0 else None

    def frames(self) -> Iterator[SourceFrame]:
        """Decoded frames with their header stamps; an undecodable message is a frame with its error."""
        from llie_core.imgmsg import decode_msg, stamp_ns

        while True:
            for conn, _, raw in self._reader.messages(connections=self._images + self._infos):
                try:
                    msg = self._reader.deserialize(raw, conn.msgtype)
                except Exception as exc:  # a corrupt message is one failed frame, not the end of the stream
                    if conn.msgtype != self._info_type:
                        yield SourceFrame(None, "", None, error=f"undecodable {conn.msgtype}: {exc}")
                    continue
                if conn.msgtype == self._info_type:
                    if self.on_camera_info is not None:
                        self.on_camera_info(stamp_ns(msg.header))
                    continue
                stamp = stamp_ns(msg.header)
                try:
                    array, encoding, _ = decode_msg(msg)
                except ValueError as exc:  # FrameError: unsupported encoding, malformed payload
                    yield SourceFrame(None, "", stamp, stamp, error=str(exc))
                    continue
                yield SourceFrame(array, encoding, stamp, stamp)
            if not self.loop:
                return

    def close(self) -> None:
        """Close the bag."""
        self._reader.close()


def is_bag(path: Path) -> bool:
    """Whether a path is a ROS bag: a folder with metadata.yaml or bag files, or a lone .mcap/.db3/.bag file."""
    if path.is_dir():
        return (path / "metadata.yaml").exists() or any(p.suffix in BAG_SUFFIXES for p in path.iterdir())
    return path.suffix.lower() in BAG_SUFFIXES


def open_source(text: str, topic: str | None = None, loop: bool = False) -> FrameSource:
    """The source SOURCE names: a camera index (``0``), a URL (``rtsp://``, ``http://``), a bag, or a video file.

    ``topic`` picks a bag's image topic; ``loop`` replays a file or bag from the start when it ends. Raises
    SourceError (or BagError) naming the source and what is wrong.
    """
    if text.isdigit():
        kind, target = "camera", int(text)
    elif "://" in text:
        kind, target = "stream", text
    else:
        path = Path(text)
        if not path.exists():
            raise SourceError(f"{text}: no such file or folder (and not a camera index or a URL)")
        if is_bag(path):
            return BagSource(path, topic, loop)
        if path.is_dir():
            raise SourceError(f"{text}: a folder that is not a bag (no metadata.yaml, .mcap, .db3 or .bag)")
        kind, target = "file", str(path)
    if topic:
        raise SourceError(f"{text}: --topic applies to bags only")
    if loop and kind != "file":
        raise SourceError(f"{text}: --loop applies to files and bags only")
    name = f"camera {target}" if kind == "camera" else str(target)
    return CaptureSource(target, name, live=kind != "file", loop=loop)
