"""``llie bag enhance``: copy a bag and add, per image topic, the enhanced stream, EnhancementStats and detections.

Output topics for an input image topic T (named like the enhancer node does, relative to the camera namespace):
``enhanced_topic(T)`` (``/camera/image_raw`` → ``/camera/enhanced/image_raw``, same message type and header),
``enhanced_topic(T) + "/stats"`` (llie/msg/EnhancementStats) and, with a detector,
``enhanced_topic(T) + "/detections"`` (vision_msgs/msg/Detection2DArray). When the bag has the camera's
CameraInfo (``/camera/camera_info``), its messages are also passed through to ``/camera/enhanced/camera_info``, as the
node republishes them, so that the enhanced namespace is a complete camera. Every input topic is copied unchanged.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from llie_core import imgmsg
from llie_core.bag.io import (
    CAMERA_INFO_TYPE,
    COMPRESSED_TYPE,
    DETECTIONS_TYPE,
    IMAGE_TYPE,
    STATS_TYPE,
    BagError,
    camera_info_topic,
    copy_connection,
    enhanced_topic,
    has_type,
    image_connections,
    open_reader,
    open_writer,
    prepare_output,
    raw_cdr,
    ros2_header,
    side_topic,
    typestore,
)


@dataclass
class EnhanceReport:
    """What ``enhance_bag`` did: frames per input topic, copies, skips by reason, and where it stopped early."""

    output: Path
    topics: dict[str, str] = field(default_factory=dict)  # input image topic -> enhanced topic
    camera_infos: dict[str, str] = field(default_factory=dict)  # input CameraInfo topic -> enhanced namespace's
    frames: Counter = field(default_factory=Counter)  # input image topic -> frames enhanced
    copied: int = 0
    detections: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> frames not enhanced (still copied)
    error: str | None = None  # where reading broke
    note: str | None = None  # how a bag rosbags cannot open was read (e.g. its metadata.yaml is missing)
    interrupted: bool = False
    seconds: float = 0.0


def select_topics(reader: Any, topics: list[str] | None) -> list[Any]:
    """The image connections to enhance: all image topics, or ``topics`` (an error lists what is available)."""
    images = image_connections(reader)
    if not topics:
        if not images:
            available = ", ".join(f"{c.topic} ({c.msgtype})" for c in reader.connections) or "none"
            raise BagError(f"no sensor_msgs/Image or CompressedImage topic in the bag; topics: {available}")
        return images
    by_topic = {c.topic for c in images}
    missing = [t for t in topics if t not in by_topic]
    if missing:
        available = ", ".join(sorted(by_topic)) or "none"
        others = sorted({c.topic for c in reader.connections} - by_topic)
        extra = f"; other topics: {', '.join(others)}" if others else ""
        raise BagError(f"topic(s) {', '.join(missing)} not an image topic of the bag; image topics: {available}{extra}")
    return [c for c in images if c.topic in topics]


def camera_infos(reader: Any, selected: list[Any]) -> dict[str, str]:
    """CameraInfo topics of the selected cameras that are in the bag -> where their passthrough goes."""
    present = {c.topic for c in reader.connections if c.msgtype == CAMERA_INFO_TYPE}
    infos = {camera_info_topic(c.topic) for c in selected}
    return {topic: enhanced_topic(topic) for topic in sorted(infos & present)}


class _Stream:
    """Per input image topic: its output connections and counters."""

    def __init__(self, writer: Any, conn: Any, detector: Any) -> None:
        store = typestore()
        self.topic, self.msgtype = conn.topic, conn.msgtype
        self.out = writer.add_connection(enhanced_topic(conn.topic), conn.msgtype, typestore=store)
        # EnhancementStats needs msg/EnhancementStats.msg beside the package (the repository layout).
        self.stats = (
            writer.add_connection(side_topic(conn.topic, "stats"), STATS_TYPE, typestore=store)
            if has_type(STATS_TYPE)
            else None
        )
        self.dets = (
            writer.add_connection(side_topic(conn.topic, "detections"), DETECTIONS_TYPE, typestore=store)
            if detector
            else None
        )
        self.received = self.processed = self.failed = 0
        self.last_error = ""


def _enhance_one(reader: Any, stream: _Stream, raw: Any, enhancer: Any) -> tuple[Any, Any, np.ndarray, dict]:
    """(input header, output message, enhanced array in working encoding, stats fields) for one image message."""
    msg = reader.deserialize(raw, stream.msgtype)
    if stream.msgtype == IMAGE_TYPE:
        arr, enc = imgmsg.image_msg_to_array(msg)
    else:
        arr, enc = imgmsg.compressed_msg_to_array(msg)
    start = time.perf_counter()
    out = enhancer.enhance(arr, rgb=enc == "rgb8")
    latency = (time.perf_counter() - start) * 1e3
    hdr = ros2_header(msg.header)
    types = typestore().types
    if stream.msgtype == IMAGE_TYPE:
        fields = imgmsg.array_to_image_fields(out, str(msg.encoding), hdr, src_encoding=enc)
    else:
        fmt = "png" if "png" in str(msg.format).lower() else "jpeg"
        fields = imgmsg.array_to_compressed_fields(out, enc, hdr, fmt=fmt)
    before, after = imgmsg.mean_luminance(arr, enc, stride=1), imgmsg.mean_luminance(out, enc, stride=1)
    stats = {
        "input_mean_luminance": before,
        "output_mean_luminance": after,
        "applied_gain": after / before if before > 0 else 1.0,
        "latency_ms": latency,
    }
    return hdr, types[stream.msgtype](**fields), imgmsg.convert_layout(out, enc, "bgr8"), stats


def _stats_msg(stream: _Stream, hdr: Any, enhancer: Any, values: dict) -> Any:
    return typestore().types[STATS_TYPE](
        header=hdr,
        model=str(enhancer.name),
        backend=str(enhancer.backend),
        enabled=True,
        gated=False,
        curve_mean=np.zeros(0, np.float32),  # no temporal curve smoothing offline
        frames_received=stream.received,
        frames_processed=stream.processed,
        frames_dropped=0,
        frames_failed=stream.failed,
        frames_gated=0,
        last_error=stream.last_error,
        **values,
    )


def enhance_bag(
    source: Path,
    out: Path,
    enhancer: Any,
    *,
    topics: list[str] | None = None,
    detector: Any = None,
    fmt: str = "mcap",
    overwrite: bool = False,
    progress: bool = True,
) -> EnhanceReport:
    """Copy ``source`` to a new bag ``out`` with the enhanced streams added; the output is closed (readable) always."""
    started = time.perf_counter()
    reader = open_reader(source)
    try:
        selected = select_topics(reader, topics)
        report = EnhanceReport(out, note=getattr(reader, "note", None))
        report.topics = {c.topic: enhanced_topic(c.topic) for c in selected}
        report.camera_infos = camera_infos(reader, selected)
        taken = {c.topic for c in reader.connections}
        clash = sorted(taken & {*report.topics.values(), *report.camera_infos.values()})
        if clash:
            raise BagError(f"{source}: {', '.join(clash)} already in the bag (enhanced before?)")
        prepare_output(out, overwrite)
        writer = open_writer(out, fmt)
    except BaseException:
        reader.close()
        raise
    store = typestore()
    total = sum(c.msgcount for c in selected) or None
    bar = tqdm(total=total, desc=f"bag enhance ({enhancer.name})", unit="frame", disable=not progress)
    index, last = 0, "none (the first message)"
    try:
        copies: dict[tuple[str, str], Any] = {}
        passed: dict[tuple[str, str], Any] = {}  # (CameraInfo topic, type) -> its enhanced-namespace connection
        for conn in reader.connections:
            key = (conn.topic, conn.msgtype)
            if key not in copies:
                copies[key] = copy_connection(writer, reader, conn)
            if conn.topic in report.camera_infos and conn.msgtype == CAMERA_INFO_TYPE and key not in passed:
                passed[key] = copy_connection(writer, reader, conn, report.camera_infos[conn.topic])
        streams: dict[str, _Stream] = {}
        for conn in selected:
            if conn.topic not in streams:
                streams[conn.topic] = _Stream(writer, conn, detector)
        messages = reader.messages()
        while True:
            try:
                conn, stamp, raw = next(messages)
            except StopIteration:
                break
            except Exception as exc:  # a corrupt or cut-off bag: keep what was read
                report.error = f"{source}: reading failed after {index} messages (last read: {last}): {exc}"
                break
            index += 1
            last = f"message {index - 1} on {conn.topic} at t={stamp} ns"
            data = raw_cdr(reader, conn, raw)
            writer.write(copies[(conn.topic, conn.msgtype)], stamp, data)
            report.copied += 1
            if (conn.topic, conn.msgtype) in passed:
                writer.write(passed[(conn.topic, conn.msgtype)], stamp, data)
            stream = streams.get(conn.topic)
            if stream is None or conn.msgtype != stream.msgtype:
                continue
            stream.received += 1
            try:
                hdr, msg, bgr, values = _enhance_one(reader, stream, raw, enhancer)
            except Exception as exc:  # unsupported encoding, corrupt payload: counted, the copy stays
                stream.failed += 1
                stream.last_error = str(exc)
                report.skipped[_reason(exc)] += 1
                bar.update(1)
                continue
            stream.processed += 1
            writer.write(stream.out, stamp, store.serialize_cdr(msg, stream.msgtype))
            if stream.stats is not None:
                writer.write(
                    stream.stats, stamp, store.serialize_cdr(_stats_msg(stream, hdr, enhancer, values), STATS_TYPE)
                )
            if stream.dets is not None:
                from llie_core.detect import detection2d_array_fields

                found = detector.detect(bgr)
                report.detections += len(found)
                fields = detection2d_array_fields(found, hdr, lambda name: store.types[name])
                writer.write(
                    stream.dets, stamp, store.serialize_cdr(store.types[DETECTIONS_TYPE](**fields), DETECTIONS_TYPE)
                )
            report.frames[conn.topic] += 1
            bar.update(1)
            bar.set_postfix(skipped=sum(report.skipped.values()), refresh=False)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        bar.close()
        writer.close()
        reader.close()
        report.seconds = time.perf_counter() - started
    return report


def _reason(exc: Exception) -> str:
    """A short reason to count skipped frames by (the error text without per-frame numbers where possible)."""
    text = str(exc) or type(exc).__name__
    if text.startswith("unsupported image encoding"):
        return text.split(";")[0]
    return f"{type(exc).__name__}: {text}"


__all__ = ["COMPRESSED_TYPE", "EnhanceReport", "enhance_bag", "select_topics"]
