"""Reading and writing ROS bags with rosbags: typestore (ROS 2 Humble + vision_msgs + llie), topic names, output."""

from __future__ import annotations

import functools
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llie_core.imgmsg import stamp_ns

IMAGE_TYPE = "sensor_msgs/msg/Image"
COMPRESSED_TYPE = "sensor_msgs/msg/CompressedImage"
IMAGE_TYPES = (IMAGE_TYPE, COMPRESSED_TYPE)
CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"
DETECTIONS_TYPE = "vision_msgs/msg/Detection2DArray"
STATS_TYPE = "llie/msg/EnhancementStats"
FORMATS = ("mcap", "sqlite3")

# vision_msgs 4.x (Humble, Jazzy) is not in rosbags' built-in stores.
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

# The package's interface definitions (msg/*.msg at the repository root, installed to share/llie/msg by ROS).
# msg/ beside the package in a checkout; share/llie/msg in a pip (data_files) or colcon install.
MSG_DIRS = (Path(__file__).resolve().parents[2] / "msg", Path(sys.prefix) / "share" / "llie" / "msg")


class BagError(RuntimeError):
    """A bag that cannot be read or written as asked; the text names the bag and what is wrong."""


@functools.lru_cache(maxsize=1)
def typestore() -> Any:
    """ROS 2 Humble types plus vision_msgs 4.x and llie/msg/* (when msg/ is present); shared, do not extend."""
    return new_typestore()


def new_typestore() -> Any:
    """A fresh typestore with the types of ``typestore()``, for callers that register more."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    types: dict = {}
    for name, text in VISION_MSGS.items():
        types.update(get_types_from_msg(text, name))
    msg_dir = next((d for d in MSG_DIRS if d.is_dir()), MSG_DIRS[0])
    for path in sorted(msg_dir.glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"llie/msg/{path.stem}"))
    store.register(types)
    return store


def has_type(name: str) -> bool:
    """Whether the llie typestore knows ``name`` (llie/msg types need msg/ beside the package)."""
    return name in typestore().fielddefs


def open_reader(path: str | Path) -> Any:
    """An opened reader on a ROS 2 bag (sqlite3 or MCAP folder, or a lone .mcap/.db3) or ROS 1 .bag.

    rosbags' AnyReader, or for a cut-off MCAP file or a damaged sqlite3 bag a reader that gets as far as it can.
    """
    from rosbags.highlevel import AnyReader

    path = Path(path)
    if not path.exists():
        raise BagError(f"{path}: no such bag")
    mcaps = [path] if path.suffix == ".mcap" else sorted(path.glob("*.mcap")) if path.is_dir() else []
    if len(mcaps) == 1 and not _mcap_complete(mcaps[0]):
        # A recording that was cut off has no MCAP footer; rosbags needs one, so read the records in order.
        reader = McapRecoveryReader(mcaps[0])
        if not reader.connections:
            raise BagError(f"{mcaps[0]}: the MCAP file is cut off before its first complete chunk; nothing to recover")
        return reader
    from llie_core.bag.sqlite_recovery import Sqlite3RecoveryReader, cut_off, sqlite_files  # imports this module

    db3s = sqlite_files(path)
    if db3s and path.is_dir() and not (path / "metadata.yaml").exists():
        # A recording that was killed has no metadata.yaml (rosbag2 writes it on close); rosbags needs one.
        return Sqlite3RecoveryReader(db3s, f"{path}: no metadata.yaml (the recording was not closed); read the .db3")
    damaged = next((f"{f}: {why}" for f in db3s if (why := cut_off(f))), None)
    if damaged:
        return Sqlite3RecoveryReader(db3s, f"{damaged}; read up to the damage")
    wal = next((w for f in db3s if (w := f.with_name(f.name + "-wal")).exists() and w.stat().st_size), None)
    if wal:
        # rosbags opens .db3 files immutable, which skips the write-ahead log a killed WAL-mode recorder leaves.
        return Sqlite3RecoveryReader(db3s, f"{wal}: messages not yet merged into the .db3; read it with its log")
    try:
        # The Humble store decodes bags that do not store their message definitions (rosbag2 before Iron).
        # ROS 1 bags always store their definitions; their typestore must keep ROS 1 layouts (Header.seq).
        reader = AnyReader([path], default_typestore=None if path.suffix == ".bag" else typestore())
        reader.open()
    except Exception as exc:  # rosbags raises several unrelated types for unreadable input
        if db3s:
            # rosbags reads every table and the timestamp index on open: one corrupt page fails the whole bag.
            return Sqlite3RecoveryReader(db3s, f"{path}: rosbags cannot open it ({exc}); read the .db3 directly")
        raise BagError(f"{path}: cannot open as a bag: {exc}") from exc
    return reader


def image_connections(reader: Any) -> list[Any]:
    """The reader's connections carrying sensor_msgs/Image or CompressedImage."""
    return [c for c in reader.connections if c.msgtype in IMAGE_TYPES]


def camera_topic(topics: Iterable[str]) -> str:
    """The first camera stream of these image topics: an enhanced stream written by ``llie bag enhance`` comes last."""
    return sorted(set(topics), key=lambda t: ("/enhanced/" in t or t.startswith("/enhanced"), t))[0]


def enhanced_topic(topic: str) -> str:
    """Where the enhanced stream of ``topic`` goes, as the enhancer node names it relative to the camera namespace.

    ``/camera/image_raw`` → ``/camera/enhanced/image_raw``; ``/camera/image_raw/compressed`` →
    ``/camera/enhanced/image_raw/compressed``; ``/image`` → ``/enhanced/image``.
    """
    parts = [p for p in topic.split("/") if p]
    if not parts:
        raise BagError(f"topic {topic!r} has no name")
    tail = 2 if parts[-1] == "compressed" and len(parts) >= 2 else 1
    return "/" + "/".join([*parts[:-tail], "enhanced", *parts[-tail:]])


def camera_info_topic(image_topic: str) -> str:
    """The camera's CameraInfo topic: ``/camera/image_raw`` (or ``.../compressed``) → ``/camera/camera_info``."""
    parts = [p for p in image_topic.split("/") if p]
    if parts and parts[-1] == "compressed":
        parts = parts[:-1]
    return "/" + "/".join([*parts[:-1], "camera_info"])


def side_topic(topic: str, name: str) -> str:
    """A per-stream side topic beside the enhanced stream: ``/camera/enhanced/image_raw`` + ``stats``."""
    return f"{enhanced_topic(topic)}/{name}"


def prepare_output(path: Path, overwrite: bool) -> None:
    """Refuse an existing output unless ``overwrite``; then remove it only if it is a bag (never another folder)."""
    if not path.exists() and not path.is_symlink():
        if not path.parent.exists():
            raise BagError(f"{path}: parent folder {path.parent} does not exist")
        return
    if not overwrite:
        raise BagError(f"{path} exists; pass --overwrite to replace it")
    if path.is_dir():
        entries = list(path.iterdir())
        looks_like_bag = all(e.name == "metadata.yaml" or e.suffix in (".mcap", ".db3", ".zstd") for e in entries)
        if not looks_like_bag:
            raise BagError(f"{path} exists and is not a bag folder; not removing it")
        shutil.rmtree(path)
    else:
        raise BagError(f"{path} exists and is a file; a bag is a folder")


def open_writer(path: Path, fmt: str = "mcap") -> Any:
    """An opened rosbags rosbag2 Writer (format version 8: readable by Humble and later)."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    if fmt not in FORMATS:
        raise BagError(f"bag format {fmt!r}: choose one of {', '.join(FORMATS)}")
    plugin = StoragePlugin.MCAP if fmt == "mcap" else StoragePlugin.SQLITE3
    writer = Writer(path, version=8, storage_plugin=plugin)
    writer.open()
    return writer


def copy_connection(writer: Any, reader: Any, conn: Any, topic: str | None = None) -> Any:
    """Add an output connection like input ``conn`` (its definition: stored, else from the typestore) on ``topic``."""
    from rosbags.interfaces import MessageDefinitionFormat

    topic = topic or conn.topic
    qos = getattr(conn.ext, "offered_qos_profiles", ()) or ()
    if conn.msgdef.format != MessageDefinitionFormat.NONE and conn.msgdef.data and conn.digest and _is_ros2(conn):
        return writer.add_connection(
            topic, conn.msgtype, msgdef=conn.msgdef.data, rihs01=conn.digest, offered_qos_profiles=qos
        )
    # Older rosbag2 (no stored definitions) and ROS 1: the reader's typestore knows the type.
    store = reader.typestore if _is_ros2(conn) else _ros2_store(reader)
    return writer.add_connection(topic, conn.msgtype, typestore=store, offered_qos_profiles=qos)


def _is_ros2(conn: Any) -> bool:
    return hasattr(conn.ext, "serialization_format")


def _ros2_store(reader: Any) -> Any:
    """The ROS 1 bag's types with the ROS 2 std_msgs/Header (no seq), as rosbags' own rosbag1→2 converter does."""
    store = getattr(reader, "_llie_ros2_store", None)
    if store is None:
        from rosbags.typesys import Stores, get_typestore

        store = get_typestore(Stores.EMPTY)
        header_def = typestore().fielddefs["std_msgs/msg/Header"]
        store.register({**reader.typestore.fielddefs, "std_msgs/msg/Header": header_def})
        reader._llie_ros2_store = store
    return store


def raw_cdr(reader: Any, conn: Any, raw: bytes | memoryview) -> bytes | memoryview:
    """The message bytes as ROS 2 CDR: unchanged from rosbag2, converted from ROS 1 serialisation."""
    if _is_ros2(conn):
        return raw
    return _ros2_store(reader).ros1_to_cdr(raw, conn.msgtype)


def header(stamp_ns: int, frame_id: str) -> Any:
    """A std_msgs/Header with the stamp in nanoseconds."""
    types = typestore().types
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    return types["std_msgs/msg/Header"](
        stamp=types["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec), frame_id=frame_id
    )


def ros2_header(msg_header: Any) -> Any:
    """A ROS 2 std_msgs/Header copied from any decoded header (ROS 1 headers carry an extra seq)."""
    return header(stamp_ns(msg_header), str(msg_header.frame_id))


_MCAP_MAGIC = b"\x89MCAP0\r\n"


def _mcap_complete(path: Path) -> bool:
    """Whether an MCAP file ends with the magic bytes (a cleanly closed recording)."""
    size = path.stat().st_size
    if size < 2 * len(_MCAP_MAGIC):
        return False
    with path.open("rb") as f:
        f.seek(size - len(_MCAP_MAGIC))
        return f.read() == _MCAP_MAGIC


class McapRecoveryReader:
    """Reads the records of an MCAP rosbag2 file in order, up to where it is cut off or corrupt.

    It offers what the bag tools use of rosbags' AnyReader: ``connections``, ``messages()``, ``deserialize``,
    ``typestore``, ``close``; message counts are those of the readable part.
    """

    def __init__(self, path: Path) -> None:
        from rosbags.interfaces import Connection, ConnectionExtRosbag2, MessageDefinition, MessageDefinitionFormat
        from rosbags.typesys import get_types_from_msg

        self.path = path
        self.truncated = True
        self.typestore = new_typestore()
        channels: dict[int, Any] = {}
        schemas: dict[int, Any] = {}
        counts: dict[int, int] = {}
        for record in self._records(stop_on_error=True):
            kind = type(record).__name__
            if kind == "Schema":
                schemas[record.id] = record
            elif kind == "Channel":
                channels[record.id] = record
            elif kind == "Message":
                counts[record.channel_id] = counts.get(record.channel_id, 0) + 1
        self.connections = []
        for cid, channel in sorted(channels.items()):
            schema = schemas.get(channel.schema_id)
            if schema is None or channel.message_encoding != "cdr":
                continue  # nothing a ROS 2 tool can decode
            text = schema.data.decode("utf-8", "replace")
            if schema.name not in self.typestore.fielddefs:
                try:
                    self.typestore.register(get_types_from_msg(text, schema.name))
                except Exception:  # an unparsable definition: the topic is still copied byte for byte
                    pass
            fmt = MessageDefinitionFormat.IDL if schema.encoding == "ros2idl" else MessageDefinitionFormat.MSG
            digest = self._digest(schema.name)
            self.connections.append(
                Connection(
                    id=cid,
                    topic=channel.topic,
                    msgtype=schema.name,
                    msgdef=MessageDefinition(fmt, text),
                    digest=digest,
                    msgcount=counts.get(cid, 0),
                    ext=ConnectionExtRosbag2(serialization_format="cdr", offered_qos_profiles=[]),
                    owner=self,
                )
            )

    def _digest(self, msgtype: str) -> str:
        try:
            return self.typestore.hash_rihs01(msgtype)
        except Exception:  # unknown type: a placeholder hash keeps the definition text in the output
            return "RIHS01_" + "0" * 64

    def _records(self, stop_on_error: bool) -> Any:
        from mcap.stream_reader import StreamReader

        with self.path.open("rb") as f:
            records = StreamReader(f, skip_magic=False).records
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    return
                except Exception as exc:
                    if stop_on_error:
                        return
                    raise BagError(
                        f"{self.path}: unreadable at byte {f.tell()}: {str(exc) or type(exc).__name__}"
                    ) from exc
                yield record

    def messages(self, connections: Any = ()) -> Any:
        """(connection, log time ns, CDR bytes) in file order; raises BagError where the file breaks."""
        by_id = {c.id: c for c in self.connections}
        wanted = {c.id for c in connections} if connections else set(by_id)
        for record in self._records(stop_on_error=False):
            if type(record).__name__ == "Message" and record.channel_id in wanted:
                yield by_id[record.channel_id], record.log_time, record.data
        raise BagError(f"{self.path}: the file ends early (no MCAP footer: the recording was cut off)")

    def deserialize(self, raw: bytes | memoryview, msgtype: str) -> Any:
        """Decode CDR bytes with this reader's typestore."""
        return self.typestore.deserialize_cdr(raw, msgtype)

    def close(self) -> None:
        """Nothing to release (files are opened per pass)."""
