"""Damaged sqlite3 bags: cut-off or corrupt .db3 files and a missing metadata.yaml are enhanced up to the break."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("rosbags")

from rosbags.highlevel import AnyReader, AnyReaderError  # noqa: E402

from llie_core.bag.enhance import enhance_bag  # noqa: E402
from llie_core.bag.evaluate import read_frames  # noqa: E402
from llie_core.bag.io import BagError  # noqa: E402
from llie_core.bag.make import DEFAULT_START_NS, make_bag  # noqa: E402
from llie_core.bag.sqlite_recovery import Sqlite3RecoveryReader, cut_off, sqlite_files  # noqa: E402
from llie_core.cli import main  # noqa: E402
from llie_core.engine import create_enhancer  # noqa: E402

N = 10
IMAGE, INFO, ENHANCED = "/camera/image_raw", "/camera/camera_info", "/camera/enhanced/image_raw"


def _sqlite_bag(tmp_path: Path, name: str, w: int = 160, h: int = 120, start_ns: int = DEFAULT_START_NS) -> Path:
    """A sqlite3 bag of N noisy dark frames (160×120 BGR: each message spills into overflow pages)."""
    folder = tmp_path / f"{name}_frames"
    folder.mkdir()
    rng = np.random.default_rng(len(name))
    for i in range(N):
        cv2.imwrite(str(folder / f"{i:03d}.png"), rng.integers(0, 60, (h, w, 3), dtype=np.uint8))
    return make_bag(folder, tmp_path / name, fmt="sqlite3", start_ns=start_ns, progress=False).path


def _rosbags(path: Path) -> dict[str, list[tuple[int, bytes]]]:
    """topic -> [(log time, raw bytes)], read by rosbags alone (proves the bag is complete and closed)."""
    with AnyReader([path]) as reader:
        out: dict[str, list] = {c.topic: [] for c in reader.connections}
        for conn, t, raw in reader.messages():
            out[conn.topic].append((t, bytes(raw)))
    return out


def _damaged_copy(src: Path, dst: Path, data: bytes) -> Path:
    """``src`` bag copied to ``dst`` with its .db3 replaced by ``data``."""
    shutil.copytree(src, dst)
    next(dst.glob("*.db3")).write_bytes(data)
    return dst


def _check_prefix(report: object, original: dict, out: Path) -> int:
    """The output holds exactly the first frames before the break, enhanced and copied; returns how many."""
    done = report.frames[IMAGE]
    assert 0 < done < N
    got = _rosbags(out)
    assert got[IMAGE] == original[IMAGE][:done]  # copies: byte for byte, same log times, nothing out of order
    assert [t for t, _ in got[ENHANCED]] == [t for t, _ in original[IMAGE][:done]]
    assert report.error and f"after {report.copied} messages" in report.error and "t=" in report.error
    return done


def test_cut_off_db3(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = _sqlite_bag(tmp_path, "in")
    original = _rosbags(src)
    data = next(src.glob("*.db3")).read_bytes()
    # 60%: past the leaf pages that the table's first b-tree split put mid-file (in a bag this small they hold the
    # first rows; an earlier cut leaves no row reachable).
    cut = _damaged_copy(src, tmp_path / "cut", data[: len(data) * 6 // 10])
    assert "cut off" in cut_off(next(cut.glob("*.db3"))) and cut_off(next(src.glob("*.db3"))) is None
    with pytest.raises(AnyReaderError, match="malformed"):  # rosbags refuses the file as a whole
        AnyReader([cut]).open()
    report = enhance_bag(cut, tmp_path / "out", create_enhancer("gamma"), progress=False)
    done = _check_prefix(report, original, tmp_path / "out")
    assert "cut off" in report.note and "unreadable after row" in report.error
    assert main(["bag", "enhance", str(cut), str(tmp_path / "out2"), "--model", "gamma"]) == 1
    captured = capsys.readouterr()
    assert f"{IMAGE} -> {ENHANCED}: {done} frames" in captured.out
    assert "reading failed after" in captured.err and "output holds everything before it" in captured.err
    assert len(_rosbags(tmp_path / "out2")[ENHANCED]) == done
    frames = read_frames(cut)  # bag eval reads the same prefix, one topic only
    assert len(frames.frames) == done and "unreadable after row" in frames.error


def _page_of(data: bytes, needle: bytes, page_size: int = 4096) -> int:
    """The offset of the page holding the first occurrence of ``needle``."""
    at = data.find(needle)
    assert at > 0 and data.count(needle) == 1
    return at // page_size * page_size


@pytest.mark.parametrize("where", ["leaf", "overflow"])
def test_corrupt_page_in_db3(tmp_path: Path, where: str) -> None:
    """A b-tree leaf page (rosbags cannot open the bag) or an overflow page (rosbags breaks mid-way) made invalid."""
    src = _sqlite_bag(tmp_path, "in")
    original = _rosbags(src)
    data = bytearray(next(src.glob("*.db3")).read_bytes())
    raw = original[IMAGE][7][1]  # frame 7: its leaf cell starts with the message, its pixels run over pages
    if where == "leaf":
        page = _page_of(data, raw[:64])
        data[page : page + 8] = b"\xff" * 8  # no valid b-tree page type
    else:
        page = _page_of(data, raw[len(raw) // 2 : len(raw) // 2 + 64])
        data[page : page + 4] = b"\xff" * 4  # the overflow chain's next page: past the end of the file
    bad = _damaged_copy(src, tmp_path / "bad", bytes(data))
    report = enhance_bag(bad, tmp_path / "out", create_enhancer("gamma"), progress=False)
    done = _check_prefix(report, original, tmp_path / "out")
    assert done <= 7 and "malformed" in report.error


def test_missing_metadata_yaml(tmp_path: Path) -> None:
    src = _sqlite_bag(tmp_path, "in", w=32, h=24)
    original = _rosbags(src)
    killed = tmp_path / "killed"
    shutil.copytree(src, killed)
    (killed / "metadata.yaml").unlink()  # rosbag2 writes it on close; a killed recorder leaves none
    report = enhance_bag(killed, tmp_path / "out", create_enhancer("gamma"), progress=False)
    assert report.error is None and "no metadata.yaml" in report.note
    assert report.frames[IMAGE] == N
    got = _rosbags(tmp_path / "out")
    assert got[IMAGE] == original[IMAGE] and got[INFO] == original[INFO]
    assert len(got[ENHANCED]) == N


def test_wrong_message_count_in_metadata(tmp_path: Path) -> None:
    src = _sqlite_bag(tmp_path, "in", w=32, h=24)
    meta = src / "metadata.yaml"
    meta.write_text(meta.read_text().replace(f"message_count: {N}", "message_count: 3"))
    assert "message_count: 3" in meta.read_text()
    report = enhance_bag(src, tmp_path / "out", create_enhancer("gamma"), progress=False)
    assert report.error is None and report.frames[IMAGE] == N  # the counts only size the progress bar


def test_split_bag_without_metadata_cut_in_second_file(tmp_path: Path) -> None:
    """A killed recording split in two files: all of the first, the second up to where it is cut off."""
    first = _sqlite_bag(tmp_path, "a")
    second = _sqlite_bag(tmp_path, "b", start_ns=DEFAULT_START_NS + 10**9)
    before = _rosbags(first)[IMAGE] + _rosbags(second)[IMAGE]
    split = tmp_path / "split"
    split.mkdir()
    shutil.copy(next(second.glob("*.db3")), split / "split_1.db3")
    shutil.copy(next(first.glob("*.db3")), split / "split_0.db3")
    data = (split / "split_1.db3").read_bytes()
    (split / "split_1.db3").write_bytes(data[: len(data) * 7 // 10])
    assert [p.name for p in sqlite_files(split)] == ["split_0.db3", "split_1.db3"]
    reader = Sqlite3RecoveryReader(sqlite_files(split), "test")
    assert sorted(c.topic for c in reader.connections) == [INFO, IMAGE]  # one connection per topic over files
    reader.close()
    report = enhance_bag(split, tmp_path / "out", create_enhancer("gamma"), progress=False)
    done = report.frames[IMAGE]
    assert N < done < 2 * N and "split_1.db3" in report.error
    assert _rosbags(tmp_path / "out")[IMAGE] == before[:done]


def test_cut_before_the_topics(tmp_path: Path) -> None:
    src = _sqlite_bag(tmp_path, "in", w=32, h=24)
    data = next(src.glob("*.db3")).read_bytes()
    cut = _damaged_copy(src, tmp_path / "cut", data[:8192])  # the schema pages only
    with pytest.raises(BagError, match="nothing to recover"):
        enhance_bag(cut, tmp_path / "out", create_enhancer("gamma"), progress=False)
    assert not (tmp_path / "out").exists()


def test_uncheckpointed_write_ahead_log(tmp_path: Path) -> None:
    """A WAL-mode recorder killed before a checkpoint: the newest messages are only in the .db3-wal file."""
    import sqlite3

    src = _sqlite_bag(tmp_path, "in", w=32, h=24)
    work = tmp_path / "work"
    shutil.copytree(src, work)
    db = sqlite3.connect(next(work.glob("*.db3")))
    assert db.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    db.execute("PRAGMA wal_autocheckpoint=0")
    rows = db.execute("SELECT topic_id, timestamp, data FROM messages ORDER BY id").fetchall()
    db.executemany(
        "INSERT INTO messages (topic_id, timestamp, data) VALUES (?, ?, ?)", [(t, s + N * 10**8, d) for t, s, d in rows]
    )
    db.commit()
    killed = tmp_path / "killed"  # copied while the writer still holds the log open, as a kill leaves it
    shutil.copytree(work, killed, ignore=shutil.ignore_patterns("*-shm"))
    db.close()
    assert next(killed.glob("*.db3-wal")).stat().st_size > 0
    report = enhance_bag(killed, tmp_path / "out", create_enhancer("gamma"), progress=False)
    assert report.error is None and "not yet merged" in report.note
    assert report.frames[IMAGE] == 2 * N  # rosbags alone (immutable open) sees only the first N
    got = _rosbags(tmp_path / "out")
    assert [raw for _, raw in got[IMAGE]] == [d for t, _, d in rows if t == 1] * 2
