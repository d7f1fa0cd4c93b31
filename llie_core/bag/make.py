"""``llie bag make``: a ROS 2 bag from a video file or an image folder (Image or CompressedImage + CameraInfo)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from llie_core import imgmsg
from llie_core.bag.io import (
    CAMERA_INFO_TYPE,
    COMPRESSED_TYPE,
    IMAGE_TYPE,
    BagError,
    camera_info_topic,
    header,
    open_writer,
    prepare_output,
    typestore,
)
from llie_core.media import IMAGE_SUFFIXES, VIDEO_SUFFIXES, read_image, read_video

DEFAULT_TOPIC = "/camera/image_raw"
# A fixed, recognisable start time (2024-01-01T00:00:00Z) so that made bags are reproducible.
DEFAULT_START_NS = 1_704_067_200 * 1_000_000_000


@dataclass(frozen=True)
class MakeResult:
    """What ``make_bag`` wrote."""

    path: Path
    frames: int
    image_topic: str
    info_topic: str
    fps: float


def source_frames(source: Path) -> tuple[Iterator[np.ndarray], float | None, int]:
    """(frames, the source's frame rate or None for image folders, frame count or 0 if unknown)."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise BagError(f"{source}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
        return (read_image(f) for f in files), None, len(files)
    if source.suffix.lower() in VIDEO_SUFFIXES:
        frames, fps, count = read_video(source)
        return frames, fps, count
    if not source.exists():
        raise BagError(f"{source}: no such file or folder")
    raise BagError(f"{source}: not a video ({', '.join(sorted(VIDEO_SUFFIXES))}) or an image folder")


def _encoding(frame: np.ndarray) -> tuple[np.ndarray, str]:
    """The frame in a layout imgmsg encodes, and its ROS encoding (BGRA loses its alpha channel)."""
    if frame.ndim == 2:
        return frame, "mono16" if frame.dtype == np.uint16 else "mono8"
    if frame.shape[2] == 4:
        frame = np.ascontiguousarray(frame[:, :, :3])
    if frame.dtype == np.uint16:
        frame = (frame >> 8).astype(np.uint8)  # sensor_msgs has no 16-bit BGR encoding that imgmsg writes
    return frame, "bgr8"


def camera_info(hdr: object, width: int, height: int) -> object:
    """An uncalibrated sensor_msgs/CameraInfo (all-zero K, as ROS defines "uncalibrated") of the frame size."""
    types = typestore().types
    roi = types["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    return types[CAMERA_INFO_TYPE](
        header=hdr,
        height=height,
        width=width,
        distortion_model="plumb_bob",
        d=np.zeros(5, np.float64),
        k=np.zeros(9, np.float64),
        r=np.eye(3).ravel(),
        p=np.zeros(12, np.float64),
        binning_x=0,
        binning_y=0,
        roi=roi,
    )


def make_bag(
    source: Path,
    out: Path,
    *,
    topic: str = DEFAULT_TOPIC,
    fps: float | None = None,
    compressed: bool = False,
    jpeg_quality: int = 90,
    fmt: str = "mcap",
    frame_id: str = "camera",
    start_ns: int = DEFAULT_START_NS,
    skip: int = 0,
    max_frames: int | None = None,
    size: tuple[int, int] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> MakeResult:
    """Write ``source`` frames into a new bag ``out``; stamps are ``start_ns + i / fps`` for the source's frame i.

    ``skip``: leave out the source's first frames (the bag starts at frame ``skip``, stamped as in the source).

    ``size``: (width, height) every frame is resized to (e.g. a 640x360 video as a 1080p camera), else as read.
    """
    frames, source_fps, count = source_frames(source)
    rate = float(fps or source_fps or 30.0)
    if rate <= 0:
        raise BagError(f"--fps must be positive, got {rate}")
    if skip < 0:
        raise BagError(f"--start must be >= 0, got {skip}")
    if size is not None and min(size) <= 0:
        raise BagError(f"--size must be positive, got {size[0]}x{size[1]}")
    if compressed and not topic.endswith("/compressed"):
        topic = f"{topic.rstrip('/')}/compressed"  # image_transport's naming
    info_topic = camera_info_topic(topic)
    prepare_output(out, overwrite)
    store = typestore()
    types = store.types
    frames = itertools.islice(frames, skip, None)
    count = max(count - skip, 0) if count else 0
    total = min(count, max_frames) if count and max_frames else (count or max_frames or None)
    writer = open_writer(out, fmt)
    written = 0
    try:  # the writer is closed (bag readable) whatever stops the loop
        msgtype = COMPRESSED_TYPE if compressed else IMAGE_TYPE
        image_conn = writer.add_connection(topic, msgtype, typestore=store)
        info_conn = writer.add_connection(info_topic, CAMERA_INFO_TYPE, typestore=store)
        for i, frame in enumerate(tqdm(frames, total=total, desc="bag make", unit="frame", disable=not progress)):
            if max_frames is not None and i >= max_frames:
                break
            t = start_ns + round((skip + i) * 1e9 / rate)
            hdr = header(t, frame_id)
            if size is not None and (frame.shape[1], frame.shape[0]) != size:
                frame = cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)
            arr, encoding = _encoding(frame)
            if compressed:
                fields = imgmsg.array_to_compressed_fields(
                    arr, encoding, hdr, fmt="png" if arr.dtype == np.uint16 else "jpeg", quality=jpeg_quality
                )
            else:
                fields = imgmsg.array_to_image_fields(arr, encoding, hdr)
            writer.write(image_conn, t, store.serialize_cdr(types[msgtype](**fields), msgtype))
            info = camera_info(hdr, arr.shape[1], arr.shape[0])
            writer.write(info_conn, t, store.serialize_cdr(info, CAMERA_INFO_TYPE))
            written += 1
    finally:
        writer.close()
    if written == 0:
        raise BagError(f"{source}: no frames could be read" + (f" after the first {skip}" if skip else ""))
    return MakeResult(out, written, topic, info_topic, rate)
