"""Reading a damaged rosbag2 sqlite3 bag (cut-off or corrupt .db3, metadata.yaml missing) up to where it breaks.

rosbags needs metadata.yaml and a database whose tables and timestamp index all read back; a recording that was
killed, or a file that was cut short or damaged, fails as a whole. This reader goes to the .db3 files directly,
with the standard library's sqlite3 opened read-only, and reads the messages in rowid (recording) order so that a
break keeps every message before it.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llie_core.bag.io import BagError, new_typestore

_SQLITE_MAGIC = b"SQLite format 3\x00"
_CHUNK = 64  # rows per query: few queries, and an error costs at most one chunk re-read row by row


def sqlite_files(path: Path) -> list[Path]:
    """The .db3 files of a bag folder (or a lone .db3) in recording order: rosbag2 numbers its splits _0, _1, …."""
    if path.suffix == ".db3":
        return [path]
    if not path.is_dir():
        return []

    def order(p: Path) -> tuple[int, str]:
        match = re.search(r"_(\d+)$", p.stem)
        return (int(match.group(1)) if match else -1, p.name)

    return sorted(path.glob("*.db3"), key=order)


def cut_off(path: Path) -> str | None:
    """Why a .db3 file is shorter than its header says (the bytes it has and should have), else None."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
        return f"cut off or not an SQLite file ({size} bytes, no complete SQLite header)"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    # The header's page count is only maintained when its "version valid for" matches the change counter.
    if head[24:28] == head[92:96] and size < pages * page_size:
        return f"the file is cut off ({size} of {pages * page_size} bytes)"
    return None


@dataclass
class _Part:
    """One .db3 file: its open connection, topic id → merged connection, and the damage found so far."""

    path: Path
    db: sqlite3.Connection | None = None
    topics: dict[int, Any] = field(default_factory=dict)
    damage: str | None = None  # why reading stops in (or before) this file


class Sqlite3RecoveryReader:
    """Reads rosbag2 sqlite3 files directly, in rowid order, up to the first unreadable message.

    It offers what the bag tools use of rosbags' AnyReader: ``connections``, ``messages()``, ``deserialize``,
    ``typestore``, ``close``; message counts are those of the rows whose keys read back. ``note`` says why rosbags
    was not used.
    """

    def __init__(self, paths: list[Path], note: str) -> None:
        self.paths = paths
        self.note = note
        self.typestore = new_typestore()
        self._parts: list[_Part] = []
        merged: dict[tuple[str, str, str], Any] = {}  # one connection per (topic, type, format) over the splits
        counts: Counter[int] = Counter()
        for path in paths:
            part = _Part(path, damage=cut_off(path))
            self._parts.append(part)
            try:
                part.db = _connect(path, relaxed=part.damage is not None)
                for topic_id, conn in self._topics(part.db):
                    key = (conn.topic, conn.msgtype, conn.ext.serialization_format)
                    merged.setdefault(key, conn._replace(id=len(merged) + 1, owner=self))
                    part.topics[topic_id] = merged[key]
            except sqlite3.Error as exc:
                if part.db is not None:
                    part.db.close()
                part.db, part.damage = None, f"cannot read its topics: {exc}"
                break  # later splits cannot be placed after a break
            for topic_id, count in _count_rows(part).items():
                counts[part.topics[topic_id].id] += count
        final = {c.id: c._replace(msgcount=counts[c.id]) for c in merged.values()}
        for part in self._parts:
            part.topics = {topic_id: final[c.id] for topic_id, c in part.topics.items()}
        self.connections: list[Any] = sorted(final.values(), key=lambda c: c.id)
        if not self.connections:
            reason = next((f"{p.path}: {p.damage}" for p in self._parts if p.damage), "no topics")
            self.close()
            raise BagError(f"nothing to recover from the sqlite3 bag ({reason}); {note}")

    def _topics(self, db: sqlite3.Connection) -> Iterator[tuple[int, Any]]:
        """(topic id in this file, Connection) for each row of the topics table, any rosbag2 schema version."""
        from rosbags.interfaces import Connection, ConnectionExtRosbag2, MessageDefinition, MessageDefinitionFormat
        from rosbags.typesys import get_types_from_msg

        definitions: dict[str, tuple[str, str]] = {}
        if db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='message_definitions'").fetchone():
            for name, encoding, text in db.execute(
                "SELECT topic_type, encoding, encoded_message_definition FROM message_definitions"
            ):
                definitions[str(name)] = (str(encoding), str(text))
        columns = {row[1] for row in db.execute("PRAGMA table_info(topics)")}
        qos_col = "offered_qos_profiles" if "offered_qos_profiles" in columns else "''"
        hash_col = "type_description_hash" if "type_description_hash" in columns else "''"
        for topic_id, name, msgtype, fmt, qos, digest in db.execute(
            f"SELECT id, name, type, serialization_format, {qos_col}, {hash_col} FROM topics ORDER BY id"
        ):
            encoding, text = definitions.get(msgtype, ("", ""))
            if encoding == "ros2msg" and text:
                msgdef = MessageDefinition(MessageDefinitionFormat.MSG, text)
                if msgtype not in self.typestore.fielddefs:
                    try:
                        self.typestore.register(get_types_from_msg(text, msgtype))
                    except Exception:  # an unparsable definition: the topic is still copied byte for byte
                        pass
            elif encoding == "ros2idl" and text:
                msgdef = MessageDefinition(MessageDefinitionFormat.IDL, text)
            else:  # rosbag2 before Iron stores no definitions; the Humble typestore knows the common types
                msgdef = MessageDefinition(MessageDefinitionFormat.NONE, "")
            ext = ConnectionExtRosbag2(serialization_format=str(fmt), offered_qos_profiles=_qos(qos))
            conn = Connection(int(topic_id), str(name), str(msgtype), msgdef, str(digest or ""), 0, ext, self)
            yield int(topic_id), conn

    def messages(self, connections: Collection[Any] = ()) -> Iterator[tuple[Any, int, bytes]]:
        """(connection, log time ns, CDR bytes) in rowid order; raises BagError where the bag breaks."""
        wanted = {c.id for c in connections} if connections else {c.id for c in self.connections}
        for part in self._parts:
            ids = [topic_id for topic_id, conn in part.topics.items() if conn.id in wanted]
            last: tuple[int, int] | None = None  # (row id, timestamp) of the last message read from this file
            if part.db is not None and ids:
                try:
                    for row_id, topic_id, stamp, data in _rows(part, ids, with_data=True):
                        yield part.topics[topic_id], stamp, data
                        last = (row_id, stamp)
                except (sqlite3.Error, _BadRow) as exc:
                    where = f"after row {last[0]} (t={last[1]} ns)" if last else "before its first message"
                    raise BagError(f"{part.path}: unreadable {where}: {exc}") from exc
            if part.damage:
                where = f"nothing after row {last[0]} (t={last[1]} ns)" if last else "no message"
                raise BagError(f"{part.path}: {part.damage}; {where} could be read")

    def deserialize(self, raw: bytes | memoryview, msgtype: str) -> Any:
        """Decode CDR bytes with this reader's typestore."""
        return self.typestore.deserialize_cdr(raw, msgtype)

    def close(self) -> None:
        """Close the database connections."""
        for part in self._parts:
            if part.db is not None:
                part.db.close()
                part.db = None


class _BadRow(ValueError):
    """A row that cannot be a message of this bag (what a damaged page reads back as)."""


def _connect(path: Path, relaxed: bool) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    if relaxed:
        # SQLite refuses a file shorter than its header says; writable_schema lifts that refusal (the connection
        # stays read-only). Its other checks are weaker then, so _rows validates every row itself.
        db.execute("PRAGMA writable_schema=ON")
    return db


def _rows(part: _Part, topic_ids: list[int], with_data: bool) -> Iterator[tuple[int, int, int, bytes]]:
    """(rowid, topic id, timestamp, data or b"") in rowid order; raises _BadRow or sqlite3.Error where it breaks."""
    assert part.db is not None
    marks = ",".join("?" * len(topic_ids))
    data_col = "data" if with_data else "x''"  # the key pass leaves the payload (and its overflow pages) unread
    query = (
        f"SELECT id, topic_id, timestamp, {data_col} FROM messages"
        f" WHERE topic_id IN ({marks}) AND id > ? ORDER BY id LIMIT ?"
    )
    previous, limit = None, _CHUNK
    while True:
        try:
            rows = part.db.execute(query, (*topic_ids, -(2**63) if previous is None else previous, limit)).fetchall()
        except sqlite3.Error:
            if limit == 1:
                raise
            # The failed chunk may hold good rows before the bad one: find the break row by row.
            limit = 1
            continue
        if not rows:
            return
        for row_id, topic_id, stamp, data in rows:
            if not isinstance(row_id, int) or (previous is not None and row_id <= previous):
                raise _BadRow(f"row id {row_id!r} out of order after {previous} (a damaged page)")
            if topic_id not in part.topics or not isinstance(stamp, int) or not isinstance(data, bytes):
                raise _BadRow(f"row {row_id} is malformed (topic {topic_id!r}, timestamp {stamp!r})")
            # Serialised ROS 2 messages start with a CDR encapsulation header (00 00 or 00 01, then options).
            if with_data and (len(data) < 4 or data[0] != 0):
                raise _BadRow(f"row {row_id} holds no CDR message (a damaged page)")
            previous = row_id
            yield row_id, topic_id, stamp, data


def _count_rows(part: _Part) -> dict[int, int]:
    """Messages per topic id among the rows whose keys read back (counting stops quietly at the first bad row)."""
    counts: dict[int, int] = {}
    try:
        for _, topic_id, _, _ in _rows(part, list(part.topics), with_data=False):
            counts[topic_id] = counts.get(topic_id, 0) + 1
    except (sqlite3.Error, _BadRow):
        pass  # messages() reports the break where it meets it
    return counts


def _qos(text: Any) -> list[Any]:
    """The topic's offered QoS profiles as rosbags parses them (none when unreadable)."""
    from rosbags.rosbag2.metadata import parse_qos

    try:
        return parse_qos(text) if text else []
    except Exception:  # a damaged or foreign QoS string: the topic is still copied
        return []
