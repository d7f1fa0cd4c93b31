"""The Foxglove outputs of ``llie live``: a WebSocket server for the Foxglove app and an MCAP recording.

Both are sinks of one Foxglove SDK context, so they carry the same channels (topics named like the enhancer node's,
so a layout made for a ROS recording fits):

==========================================  =============================  ==========================================
``/camera/image_raw/compressed``            foxglove.CompressedImage       the frame as read (jpeg)
``/camera/enhanced/image_raw/compressed``   foxglove.CompressedImage       the enhanced frame (jpeg)
``/camera/enhanced/annotations``            foxglove.ImageAnnotations      detector boxes and labels, and a latency
                                                                           line; same timestamp as the images
``/camera/enhanced/stats``                  JSON, schema llie.LiveStats    EnhancementStats fields (latency_ms:
                                                                           read → published) + per-stage latency
==========================================  =============================  ==========================================

A channel's messages are only encoded while something receives them (a subscribed app, the recording), so an
unwatched server costs nothing per frame. The SDK is imported here only (the ``live`` extra: foxglove-sdk).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from llie_core.detect import Detection, class_colour
from llie_core.imgmsg import array_to_compressed_fields
from llie_core.stream import FrameStats

RAW_TOPIC = "/camera/image_raw/compressed"
ENHANCED_TOPIC = "/camera/enhanced/image_raw/compressed"
ANNOTATIONS_TOPIC = "/camera/enhanced/annotations"
STATS_TOPIC = "/camera/enhanced/stats"
FRAME_ID = "camera"
STATS_SCHEMA_NAME = "llie.LiveStats"
# Per-stage latencies added to the EnhancementStats fields on the stats channel.
STAGE_FIELDS = ("enhance_ms", "detect_ms", "publish_ms")

_JSON_TYPES = {"str": "string", "bool": "boolean", "float": "number", "int": "integer"}


class OutputError(RuntimeError):
    """An output that cannot be set up (port in use, recording exists): the text names it and what is wrong."""


def stats_schema() -> dict[str, Any]:
    """JSON Schema of the stats channel: FrameStats' fields, the stamp, the detection count and STAGE_FIELDS."""
    props: dict[str, Any] = {"stamp_ns": {"type": "integer"}, "detections": {"type": "integer"}}
    hints = typing.get_type_hints(FrameStats)
    for field in dataclasses.fields(FrameStats):
        hint = hints[field.name]
        if typing.get_origin(hint) is list:
            props[field.name] = {"type": "array", "items": {"type": "number"}}
        else:
            props[field.name] = {"type": _JSON_TYPES[hint.__name__]}
    props.update({name: {"type": "number"} for name in STAGE_FIELDS})
    return {"title": STATS_SCHEMA_NAME, "type": "object", "properties": props}


def _foxglove() -> Any:
    try:
        import foxglove
    except ImportError as exc:
        raise OutputError(
            f"the live view needs the Foxglove SDK: pip install 'llie[live]' (foxglove-sdk): {exc}"
        ) from exc
    return foxglove


def _timestamp(stamp_ns: int) -> Any:
    from foxglove.messages import Timestamp

    sec, nsec = divmod(int(stamp_ns), 1_000_000_000)
    return Timestamp(sec, nsec)


def _colour(bgr: tuple[int, int, int], alpha: float = 1.0) -> Any:
    from foxglove.messages import Color

    return Color(r=bgr[2] / 255.0, g=bgr[1] / 255.0, b=bgr[0] / 255.0, a=alpha)


def compressed_image(stamp_ns: int, bgr: np.ndarray, quality: int) -> Any:
    """A foxglove.CompressedImage holding a BGR uint8 frame as jpeg."""
    from foxglove.messages import CompressedImage

    data = array_to_compressed_fields(bgr, "bgr8", None, fmt="jpeg", quality=quality)["data"]
    return CompressedImage(timestamp=_timestamp(stamp_ns), frame_id=FRAME_ID, data=data.tobytes(), format="jpeg")


def image_annotations(stamp_ns: int, detections: Sequence[Detection], lines: Sequence[str] = ()) -> Any:
    """foxglove.ImageAnnotations: a box (closed outline) and a label per detection, then ``lines`` top left."""
    from foxglove.messages import ImageAnnotations, Point2, PointsAnnotation, PointsAnnotationType, TextAnnotation

    ts = _timestamp(stamp_ns)
    points, texts = [], []
    black, white, shade = _colour((0, 0, 0)), _colour((255, 255, 255)), _colour((0, 0, 0), 0.6)
    for det in detections:
        colour = _colour(class_colour(det.class_id))
        corners = [(det.x1, det.y1), (det.x2, det.y1), (det.x2, det.y2), (det.x1, det.y2)]
        points.append(
            PointsAnnotation(
                timestamp=ts,
                type=PointsAnnotationType.LineLoop,
                points=[Point2(x=float(x), y=float(y)) for x, y in corners],
                outline_color=colour,
                thickness=2.0,
            )
        )
        texts.append(
            TextAnnotation(
                timestamp=ts,
                position=Point2(x=float(det.x1), y=float(det.y1)),
                text=f"{det.class_name} {det.score:.2f}",
                font_size=14.0,
                text_color=black,
                background_color=colour,
            )
        )
    for i, line in enumerate(lines):
        position = Point2(x=8.0, y=20.0 + 18.0 * i)
        texts.append(
            TextAnnotation(
                timestamp=ts, position=position, text=line, font_size=14.0, text_color=white, background_color=shade
            )
        )
    return ImageAnnotations(points=points, texts=texts)


class FoxgloveOutput:
    """The live channels on a Foxglove WebSocket server (``port`` None: none) and/or an MCAP recording."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = 8765,
        record: Path | None = None,
        overwrite: bool = False,
        jpeg_quality: int = 90,
        name: str = "llie live",
    ) -> None:
        foxglove = _foxglove()
        from foxglove.channels import CompressedImageChannel, ImageAnnotationsChannel

        self.quality, self.host = jpeg_quality, host
        self._context = foxglove.Context()
        self.raw = CompressedImageChannel(RAW_TOPIC, context=self._context)
        self.enhanced = CompressedImageChannel(ENHANCED_TOPIC, context=self._context)
        self.annotations = ImageAnnotationsChannel(ANNOTATIONS_TOPIC, context=self._context)
        self.stats = foxglove.Channel(STATS_TOPIC, schema=stats_schema(), context=self._context)
        self.server: Any = None
        self.writer: Any = None
        if record is not None:
            try:
                self.writer = foxglove.open_mcap(record, allow_overwrite=overwrite, context=self._context)
            except FileExistsError as exc:
                raise OutputError(f"{record} exists; pass --overwrite to replace it") from exc
            except OSError as exc:
                raise OutputError(f"{record}: cannot write the recording: {exc.strerror or exc}") from exc
        if port is not None:
            try:
                self.server = foxglove.start_server(name=name, host=host, port=port, context=self._context)
            except RuntimeError as exc:
                self.close()
                raise OutputError(f"cannot serve the live view on {host}:{port}: {exc}") from exc
        self.record = record

    @property
    def url(self) -> str | None:
        """The WebSocket address the Foxglove app connects to, or None without a server."""
        if self.server is None:
            return None
        host = "localhost" if self.host in ("", "0.0.0.0", "::") else self.host  # any address: this machine's
        return f"ws://{host}:{self.server.port}"

    def publish(
        self,
        stamp_ns: int,
        raw: np.ndarray,
        enhanced: np.ndarray,
        detections: Sequence[Detection],
        lines: Sequence[str],
    ) -> None:
        """Both images (BGR uint8) and the annotations of one frame, all with the frame's stamp."""
        for channel, image in ((self.raw, raw), (self.enhanced, enhanced)):
            if channel.has_sinks():
                channel.log(compressed_image(stamp_ns, image, self.quality))
        if self.annotations.has_sinks():
            self.annotations.log(image_annotations(stamp_ns, detections, lines))

    def publish_stats(self, stamp_ns: int, stats: FrameStats, stages: dict[str, float], detections: int) -> None:
        """The stats message of one frame: its FrameStats, per-stage latency (STAGE_FIELDS) and detection count."""
        if self.stats.has_sinks():
            self.stats.log({"stamp_ns": int(stamp_ns), "detections": int(detections), **stats.fields(), **stages})

    def close(self) -> None:
        """Stop the server and finish the recording (its summary and footer: Foxglove and mcap readers need them)."""
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None
