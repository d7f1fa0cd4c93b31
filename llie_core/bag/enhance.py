"""``llie bag enhance``: copy a bag and add, per image topic, the enhanced stream, EnhancementStats and detections.

Output topics for an input image topic T (named like the enhancer node does, relative to the camera namespace):
``enhanced_topic(T)`` (``/camera/image_raw`` → ``/camera/enhanced/image_raw``, same message type and header),
``enhanced_topic(T) + "/stats"`` (llie/msg/EnhancementStats) and, with a detector,
``enhanced_topic(T) + "/detections"`` (vision_msgs/msg/Detection2DArray). When the bag has the camera's
CameraInfo (``/camera/camera_info``), its messages are also passed through to ``/camera/enhanced/camera_info``, as the
node republishes them, so that the enhanced namespace is a complete camera. Every input topic is copied unchanged.

Each image topic runs through its own llie_core.stream.StreamProcessor with the node's settings (gating, temporal
smoothing, output encoding, statistics, frames lost from the stamps and the camera_info), so the enhanced images and
EnhancementStats are what the enhancer node publishes for the same frames.
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
from llie_core.stream import FixedModel, FrameStats, StreamProcessor, StreamSettings


@dataclass
class EnhanceReport:
    """What ``enhance_bag`` did: frames per input topic, copies, skips by reason, and where it stopped early."""

    output: Path
    topics: dict[str, str] = field(default_factory=dict)  # input image topic -> enhanced topic
    camera_infos: dict[str, str] = field(default_factory=dict)  # input CameraInfo topic -> enhanced namespace's
    frames: Counter = field(default_factory=Counter)  # input image topic -> frames written to its enhanced topic
    gated: Counter = field(default_factory=Counter)  # input image topic -> frames passed through by the gate
    lost: Counter = field(default_factory=Counter)  # input image topic -> frames missing from the recording
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
    """Per input image topic: its output connections and its stream processor (state and counters)."""

    def __init__(self, writer: Any, conn: Any, detector: Any, processor: StreamProcessor) -> None:
        store = typestore()
        self.topic, self.msgtype = conn.topic, conn.msgtype
        self.processor = processor
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


def _enhance_one(reader: Any, stream: _Stream, raw: Any) -> tuple[Any, Any, np.ndarray, FrameStats]:
    """(input header, output message, enhanced frame as BGR, stats) for one image message, as the node makes them.

    The latency runs from the undecoded message to the encoded output (the node's, from arrival to publication).
    """
    start = time.perf_counter()
    processor = stream.processor
    try:
        msg = reader.deserialize(raw, stream.msgtype)
    except Exception:
        processor.receive(None)  # a frame arrived, without a readable stamp
        raise
    processor.receive(imgmsg.stamp_ns(msg.header))
    arr, enc, source = imgmsg.decode_msg(msg, mosaic=True)  # the processor demosaics for all but RAW models
    frame = processor.process(arr, enc)
    hdr = ros2_header(msg.header)
    settings = processor.settings
    if stream.msgtype == IMAGE_TYPE:
        out_encoding = settings.output_encoding_for(source)
        fields = imgmsg.array_to_image_fields(frame.array, out_encoding, hdr, src_encoding=frame.encoding)
    else:
        fmt = "png" if "png" in str(msg.format).lower() else "jpeg"
        fields = imgmsg.array_to_compressed_fields(
            frame.array, frame.encoding, hdr, fmt=fmt, quality=settings.jpeg_quality
        )
    out = typestore().types[stream.msgtype](**fields)
    stats = processor.finish(frame, time.perf_counter() - start)
    return hdr, out, imgmsg.convert_layout(frame.array, frame.encoding, "bgr8"), stats


def _stats_msg(hdr: Any, stats: FrameStats) -> Any:
    fields = stats.fields()
    fields["curve_mean"] = np.asarray(fields["curve_mean"], np.float32)
    return typestore().types[STATS_TYPE](header=hdr, **fields)


def enhance_bag(
    source: Path,
    out: Path,
    enhancer: Any,
    *,
    settings: StreamSettings | None = None,
    topics: list[str] | None = None,
    detector: Any = None,
    fmt: str = "mcap",
    overwrite: bool = False,
    progress: bool = True,
) -> EnhanceReport:
    """Copy ``source`` to a new bag ``out`` with the enhanced streams added; the output is closed (readable) always.

    ``settings``: the enhancer node's per-frame parameters (default: the node's defaults).
    """
    settings = settings or StreamSettings()
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
    streams: dict[str, _Stream] = {}
    try:
        copies: dict[tuple[str, str], Any] = {}
        passed: dict[tuple[str, str], Any] = {}  # (CameraInfo topic, type) -> its enhanced-namespace connection
        for conn in reader.connections:
            key = (conn.topic, conn.msgtype)
            if key not in copies:
                copies[key] = copy_connection(writer, reader, conn)
            if conn.topic in report.camera_infos and conn.msgtype == CAMERA_INFO_TYPE and key not in passed:
                passed[key] = copy_connection(writer, reader, conn, report.camera_infos[conn.topic])
        for conn in selected:
            if conn.topic not in streams:
                processor = StreamProcessor(FixedModel(enhancer), settings)
                streams[conn.topic] = _Stream(writer, conn, detector, processor)
        # camera_info topic -> the streams of that camera, whose lost frames its stamps reveal
        infos: dict[str, list[_Stream]] = {}
        for stream in streams.values():
            infos.setdefault(camera_info_topic(stream.topic), []).append(stream)
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
                _count_camera_info(reader, raw, conn, infos.get(conn.topic, ()))
            stream = streams.get(conn.topic)
            if stream is None or conn.msgtype != stream.msgtype:
                continue
            try:
                hdr, msg, bgr, stats = _enhance_one(reader, stream, raw)
            except Exception as exc:  # unsupported encoding, corrupt payload: counted, the copy stays
                stream.processor.stats.on_failed(str(exc))
                report.skipped[_reason(exc)] += 1
                bar.update(1)
                continue
            writer.write(stream.out, stamp, store.serialize_cdr(msg, stream.msgtype))
            if stream.stats is not None:
                writer.write(stream.stats, stamp, store.serialize_cdr(_stats_msg(hdr, stats), STATS_TYPE))
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
        for topic, stream in streams.items():
            snap = stream.processor.stats.snapshot()
            report.gated[topic], report.lost[topic] = snap.gated, snap.lost
        bar.close()
        writer.close()
        reader.close()
        report.seconds = time.perf_counter() - started
    return report


def _count_camera_info(reader: Any, raw: Any, conn: Any, streams: Any) -> None:
    """Tell the camera's streams a camera_info arrived (its stamp reveals frames lost before them)."""
    if not streams:
        return
    try:
        stamp = imgmsg.stamp_ns(reader.deserialize(raw, conn.msgtype).header)
    except Exception:  # an undecodable camera_info only costs the loss estimate one stamp; it is still copied
        return
    for stream in streams:
        stream.processor.stats.on_camera_info(stamp)


def _reason(exc: Exception) -> str:
    """A short reason to count skipped frames by (the error text without per-frame numbers where possible)."""
    text = str(exc) or type(exc).__name__
    if text.startswith("unsupported image encoding"):
        return text.split(";")[0]
    return f"{type(exc).__name__}: {text}"


__all__ = ["COMPRESSED_TYPE", "EnhanceReport", "enhance_bag", "select_topics"]
