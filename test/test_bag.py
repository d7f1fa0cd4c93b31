"""Bag tools: make, enhance (round trip, bad input, interrupts), eval reports, real Humble bag compatibility."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("rosbags")

from conftest import shared_path  # noqa: E402

from llie_core import imgmsg  # noqa: E402
from llie_core.bag.enhance import enhance_bag  # noqa: E402
from llie_core.bag.io import BagError, enhanced_topic, open_reader, open_writer, typestore  # noqa: E402
from llie_core.bag.make import DEFAULT_START_NS, make_bag  # noqa: E402
from llie_core.cli import main  # noqa: E402
from llie_core.engine import create_enhancer  # noqa: E402
from llie_core.stream import StreamSettings  # noqa: E402

W, H = 32, 24


def _frames(n: int, w: int = W, h: int = H) -> list[np.ndarray]:
    """Distinct dark BGR frames (a gradient whose level changes per frame)."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 40, w, dtype=np.float64)[None, :, None]
    return [np.clip(ramp + 5 * i + rng.integers(0, 8, (h, w, 3)), 0, 255).astype(np.uint8) for i in range(n)]


def _folder(tmp_path: Path, n: int = 5, w: int = W, h: int = H) -> tuple[Path, list[np.ndarray]]:
    folder = tmp_path / "frames"
    folder.mkdir()
    frames = _frames(n, w, h)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), frame)
    return folder, frames


def _read(path: Path) -> dict[str, list[tuple[int, bytes, object]]]:
    """topic -> [(log time, raw bytes, decoded message)]."""
    reader = open_reader(path)
    out: dict[str, list] = {c.topic: [] for c in reader.connections}
    for conn, t, raw in reader.messages():
        out[conn.topic].append((t, bytes(raw), reader.deserialize(raw, conn.msgtype)))
    reader.close()
    return out


def _stamp(msg: object) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def test_enhanced_topic_naming() -> None:
    assert enhanced_topic("/camera/image_raw") == "/camera/enhanced/image_raw"
    assert enhanced_topic("/camera/image_raw/compressed") == "/camera/enhanced/image_raw/compressed"
    assert enhanced_topic("/image") == "/enhanced/image"


@pytest.mark.parametrize("fmt", ["mcap", "sqlite3"])
@pytest.mark.parametrize("compressed", [False, True])
def test_make_from_folder(tmp_path: Path, fmt: str, compressed: bool) -> None:
    folder, frames = _folder(tmp_path)
    result = make_bag(folder, tmp_path / "bag", fps=10, fmt=fmt, compressed=compressed, frame_id="cam0", progress=False)
    topic = "/camera/image_raw/compressed" if compressed else "/camera/image_raw"
    assert (result.frames, result.image_topic, result.info_topic) == (5, topic, "/camera/camera_info")
    assert any(p.suffix == (".mcap" if fmt == "mcap" else ".db3") for p in result.path.iterdir())
    reader = open_reader(result.path)
    assert all(c.msgdef.data for c in reader.connections)  # definitions stored: decodable without the package
    reader.close()
    msgs = _read(result.path)
    expected = [DEFAULT_START_NS + i * 100_000_000 for i in range(5)]
    assert [t for t, _, _ in msgs[topic]] == expected
    assert [_stamp(m) for _, _, m in msgs[topic]] == expected
    assert {m.header.frame_id for _, _, m in msgs[topic]} == {"cam0"}
    for (_, _, msg), frame in zip(msgs[topic], frames, strict=True):
        decode = imgmsg.compressed_msg_to_array if compressed else imgmsg.image_msg_to_array
        arr, enc = decode(msg)
        assert enc == "bgr8" and arr.shape == (H, W, 3)
        diff = np.abs(arr.astype(int) - frame).max()
        assert diff <= (12 if compressed else 0)  # JPEG is lossy; Image is exact
    info = msgs["/camera/camera_info"][0][2]
    assert (info.width, info.height) == (W, H)


def test_make_resizes_to_size(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder, frames = _folder(tmp_path, n=2)
    out = tmp_path / "big"
    assert main(["bag", "make", str(folder), str(out), "--size", "64x40"]) == 0
    msgs = _read(out)
    arr, _ = imgmsg.image_msg_to_array(msgs["/camera/image_raw"][1][2])
    assert arr.shape == (40, 64, 3)
    assert np.array_equal(arr, cv2.resize(frames[1], (64, 40), interpolation=cv2.INTER_LINEAR))
    info = msgs["/camera/camera_info"][0][2]
    assert (info.width, info.height) == (64, 40)  # camera_info follows the resized frames
    with pytest.raises(SystemExit):
        main(["bag", "make", str(folder), str(tmp_path / "x"), "--size", "64by40"])
    assert "'64by40' is not WIDTHxHEIGHT" in capsys.readouterr().err


def test_make_starts_at_a_later_frame(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder, frames = _folder(tmp_path, n=5)
    result = make_bag(folder, tmp_path / "late", fps=10, skip=2, max_frames=2, progress=False)
    msgs = _read(result.path)["/camera/image_raw"]
    assert result.frames == 2 and [t for t, _, _ in msgs] == [DEFAULT_START_NS + i * 100_000_000 for i in (2, 3)]
    assert np.array_equal(imgmsg.image_msg_to_array(msgs[0][2])[0], frames[2])
    assert main(["bag", "make", str(folder), str(tmp_path / "none"), "--start", "5"]) == 2
    assert "no frames could be read after the first 5" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["mcap", "sqlite3"])
def test_enhance_round_trip(tmp_path: Path, fmt: str) -> None:
    from rosbags.highlevel import AnyReader

    folder, _ = _folder(tmp_path)
    src = make_bag(folder, tmp_path / "in", fps=15, fmt=fmt, progress=False).path
    enhancer = create_enhancer("gamma")
    # Without temporal smoothing every frame is the enhancer's own output (test_stream_equivalence covers the rest).
    report = enhance_bag(
        src, tmp_path / "out", enhancer, settings=StreamSettings(smoothing=0.0), fmt=fmt, progress=False
    )
    assert report.error is None and not report.skipped and report.frames["/camera/image_raw"] == 5
    before, after = _read(src), _read(tmp_path / "out")
    for topic, msgs in before.items():  # every input topic unchanged, byte for byte
        assert [(t, raw) for t, raw, _ in after[topic]] == [(t, raw) for t, raw, _ in msgs]
    raw_in = before["/camera/image_raw"]
    enh = after["/camera/enhanced/image_raw"]
    assert [t for t, _, _ in enh] == [t for t, _, _ in raw_in]
    assert [_stamp(m) for _, _, m in enh] == [_stamp(m) for _, _, m in raw_in]
    for (_, _, m_in), (_, _, m_out) in zip(raw_in, enh, strict=True):
        expected = enhancer.enhance(imgmsg.image_msg_to_array(m_in)[0])
        assert m_out.encoding == "bgr8"
        np.testing.assert_array_equal(imgmsg.image_msg_to_array(m_out)[0], expected)
    # The stats decode from the definitions stored in the bag alone (no llie typestore).
    with AnyReader([tmp_path / "out"]) as reader:
        conns = [c for c in reader.connections if c.topic == "/camera/enhanced/image_raw/stats"]
        assert conns and conns[0].msgtype == "llie/msg/EnhancementStats"
        stats = [reader.deserialize(raw, c.msgtype) for c, _, raw in reader.messages(connections=conns)]
    assert len(stats) == 5 and {s.model for s in stats} == {"gamma"}
    assert [s.frames_processed for s in stats] == [1, 2, 3, 4, 5]  # counters include this frame
    assert {(s.frames_lost, s.gated, s.enabled) for s in stats} == {(0, False, True)}
    assert all(s.output_mean_luminance > s.input_mean_luminance > 0 for s in stats)


def test_enhance_compressed_with_curve_model(tmp_path: Path) -> None:
    shared_path("weights", "reference", "tiny_dce_student.pth")
    folder, _ = _folder(tmp_path, n=3)
    src = make_bag(folder, tmp_path / "in", compressed=True, progress=False).path
    enhancer = create_enhancer("tiny_dce", weights="reference", scale_factor=4)
    report = enhance_bag(src, tmp_path / "out", enhancer, progress=False)
    assert report.frames["/camera/image_raw/compressed"] == 3
    msgs = _read(tmp_path / "out")["/camera/enhanced/image_raw/compressed"]
    assert len(msgs) == 3 and all("jpeg" in m.format for _, _, m in msgs)
    first_in = _read(src)["/camera/image_raw/compressed"][0][2]
    arr_in = imgmsg.compressed_msg_to_array(first_in)[0]
    arr_out = imgmsg.compressed_msg_to_array(msgs[0][2])[0]
    assert arr_out.mean() > arr_in.mean() + 10  # brighter, through JPEG


def test_humble_fixture_without_definitions(tmp_path: Path) -> None:
    bag = shared_path("bags", "humble_sqlite3_mono8_fixture")
    msgs = _read(bag)
    assert len(msgs["/image"]) == 3
    arr, enc = imgmsg.image_msg_to_array(msgs["/image"][0][2])
    assert enc == "mono8" and arr.shape == (2, 2)
    report = enhance_bag(bag, tmp_path / "out", create_enhancer("gamma"), fmt="sqlite3", progress=False)
    assert report.frames["/image"] == 3 and report.error is None
    out = _read(tmp_path / "out")
    assert [raw for _, raw, _ in out["/image"]] == [raw for _, raw, _ in msgs["/image"]]
    assert [_stamp(m) for _, _, m in out["/enhanced/image"]] == [_stamp(m) for _, _, m in msgs["/image"]]
    assert {m.encoding for _, _, m in out["/enhanced/image"]} == {"mono8"}
    reader = open_reader(tmp_path / "out")
    assert all(c.msgdef.data for c in reader.connections)  # the output stores what the input lacked
    reader.close()


def test_truncated_mcap_keeps_what_was_read(tmp_path: Path) -> None:
    # Frames large enough that the writer's chunks hold few messages (a lost chunk loses all it holds).
    folder, _ = _folder(tmp_path, n=10, w=320, h=240)
    src = make_bag(folder, tmp_path / "in", progress=False).path
    mcap = next(src.glob("*.mcap"))
    cut = tmp_path / "cut"
    cut.mkdir()
    data = mcap.read_bytes()
    (cut / "cut.mcap").write_bytes(data[: len(data) * 6 // 10])
    report = enhance_bag(cut, tmp_path / "out", create_enhancer("gamma"), progress=False)
    done = report.frames["/camera/image_raw"]
    assert 0 < done < 10
    assert report.error and f"after {report.copied} messages" in report.error and "/camera/" in report.error
    out = _read(tmp_path / "out")  # readable, holding everything before the break
    assert len(out["/camera/enhanced/image_raw"]) == done == len(out["/camera/image_raw"])
    (cut / "cut.mcap").write_bytes(data[:200])  # cut before the first chunk: a clear error, no output
    with pytest.raises(BagError, match="cut off before its first complete chunk"):
        enhance_bag(cut, tmp_path / "out2", create_enhancer("gamma"), progress=False)
    assert not (tmp_path / "out2").exists()


class _InterruptAfter:
    """An enhancer that raises KeyboardInterrupt on frame ``n`` (as Ctrl-C would)."""

    name, backend, kind = "gamma", "numpy", "classical"

    def __init__(self, n: int) -> None:
        self.inner, self.n, self.calls = create_enhancer("gamma"), n, 0

    def enhance(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        self.calls += 1
        if self.calls > self.n:
            raise KeyboardInterrupt
        return self.inner.enhance(frame, rgb=rgb)


@pytest.mark.parametrize("fmt", ["mcap", "sqlite3"])
def test_interrupt_leaves_readable_bag(tmp_path: Path, fmt: str) -> None:
    from rosbags.highlevel import AnyReader

    folder, _ = _folder(tmp_path)
    src = make_bag(folder, tmp_path / "in", progress=False).path
    report = enhance_bag(src, tmp_path / "out", _InterruptAfter(2), fmt=fmt, progress=False)
    assert report.interrupted and report.frames["/camera/image_raw"] == 2
    # rosbags alone (no recovery reader) opens it: the writer was closed, metadata.yaml written.
    assert (tmp_path / "out" / "metadata.yaml").exists()
    with AnyReader([tmp_path / "out"]) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        enhanced = [c for c in reader.connections if c.topic == "/camera/enhanced/image_raw"]
        assert len(list(reader.messages(connections=enhanced))) == 2
    assert counts["/camera/enhanced/image_raw"] == 2 and counts["/camera/enhanced/image_raw/stats"] == 2
    assert counts["/camera/image_raw"] == 3  # the third frame was copied before its enhancement was interrupted


def test_interrupt_cli_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llie_core.cli.common

    folder, _ = _folder(tmp_path)
    src = make_bag(folder, tmp_path / "in", progress=False).path
    monkeypatch.setattr(llie_core.cli.common, "enhancer_or_reference", lambda *a, **k: (_InterruptAfter(3), "-"))
    assert main(["bag", "enhance", str(src), str(tmp_path / "out"), "--model", "gamma"]) == 130
    captured = capsys.readouterr()
    assert "interrupted" in captured.err and "/camera/enhanced/image_raw: 3 frames" in captured.out
    assert len(_read(tmp_path / "out")["/camera/enhanced/image_raw"]) == 3


@pytest.mark.parametrize(("fmt", "compressed"), [("mcap", False), ("sqlite3", True)])
def test_camera_info_passed_through(tmp_path: Path, fmt: str, compressed: bool) -> None:
    from rosbags.highlevel import AnyReader

    folder, _ = _folder(tmp_path, n=3)
    src = make_bag(folder, tmp_path / "in", compressed=compressed, fmt=fmt, progress=False).path
    report = enhance_bag(src, tmp_path / "out", create_enhancer("gamma"), fmt=fmt, progress=False)
    assert report.camera_infos == {"/camera/camera_info": "/camera/enhanced/camera_info"}
    before, after = _read(src), _read(tmp_path / "out")
    infos = [(t, raw) for t, raw, _ in before["/camera/camera_info"]]
    assert len(infos) == 3
    assert [(t, raw) for t, raw, _ in after["/camera/enhanced/camera_info"]] == infos  # same bytes, same times
    assert [(t, raw) for t, raw, _ in after["/camera/camera_info"]] == infos  # the input topic is still copied
    with AnyReader([tmp_path / "out"]) as reader:  # decodable from the definitions stored in the output alone
        conn = next(c for c in reader.connections if c.topic == "/camera/enhanced/camera_info")
        assert conn.msgtype == "sensor_msgs/msg/CameraInfo"
        msgs = [reader.deserialize(raw, conn.msgtype) for _, _, raw in reader.messages(connections=[conn])]
    assert [(m.width, m.height) for m in msgs] == [(W, H)] * 3
    assert [_stamp(m) for m in msgs] == [_stamp(m) for _, _, m in before["/camera/camera_info"]]


def test_camera_info_only_for_enhanced_cameras(tmp_path: Path) -> None:
    from llie_core.bag.make import camera_info

    store = typestore()
    writer = open_writer(tmp_path / "in", "mcap")
    conns = {
        topic: writer.add_connection(topic, msgtype, typestore=store)
        for topic, msgtype in [
            ("/left/image_raw", "sensor_msgs/msg/Image"),
            ("/left/camera_info", "sensor_msgs/msg/CameraInfo"),
            ("/right/image_raw", "sensor_msgs/msg/Image"),
            ("/right/camera_info", "sensor_msgs/msg/CameraInfo"),
            ("/mono/image", "sensor_msgs/msg/Image"),  # a camera without CameraInfo
        ]
    }
    frame = _frames(1)[0]
    for i in range(2):
        t = DEFAULT_START_NS + i
        hdr = store.types["std_msgs/msg/Header"](
            stamp=store.types["builtin_interfaces/msg/Time"](sec=t // 10**9, nanosec=t % 10**9), frame_id="c"
        )
        for topic, conn in conns.items():
            if topic.endswith("camera_info"):
                msg, msgtype = camera_info(hdr, W, H), "sensor_msgs/msg/CameraInfo"
            else:
                msg = store.types["sensor_msgs/msg/Image"](**imgmsg.array_to_image_fields(frame, "bgr8", hdr))
                msgtype = "sensor_msgs/msg/Image"
            writer.write(conn, t, store.serialize_cdr(msg, msgtype))
    writer.close()
    topics = ["/left/image_raw", "/mono/image"]
    report = enhance_bag(tmp_path / "in", tmp_path / "out", create_enhancer("gamma"), topics=topics, progress=False)
    assert report.camera_infos == {"/left/camera_info": "/left/enhanced/camera_info"}
    out = _read(tmp_path / "out")
    assert len(out["/left/enhanced/camera_info"]) == 2 and len(out["/mono/enhanced/image"]) == 2
    assert not [t for t in out if t.endswith("enhanced/camera_info") and not t.startswith("/left/")]
    # Enhancing the output again would write topics it already has: refused before any output is created.
    with pytest.raises(BagError, match="/left/enhanced/camera_info.*already in the bag"):
        enhance_bag(tmp_path / "out", tmp_path / "again", create_enhancer("gamma"), topics=["/left/image_raw"])
    assert not (tmp_path / "again").exists()


def test_unsupported_encoding_skipped_and_counted(tmp_path: Path) -> None:
    store = typestore()
    image = store.types["sensor_msgs/msg/Image"]
    writer = open_writer(tmp_path / "in", "mcap")
    conn = writer.add_connection("/cam/image", "sensor_msgs/msg/Image", typestore=store)
    hdr = store.types["std_msgs/msg/Header"](
        stamp=store.types["builtin_interfaces/msg/Time"](sec=1, nanosec=0), frame_id="c"
    )
    frame = _frames(1)[0]
    good = image(**imgmsg.array_to_image_fields(frame, "bgr8", hdr))
    bad = image(header=hdr, height=2, width=2, encoding="32FC1", is_bigendian=0, step=8, data=np.zeros(16, np.uint8))
    for i, msg in enumerate([good, bad, good]):
        writer.write(conn, 1_000_000_000 + i, store.serialize_cdr(msg, "sensor_msgs/msg/Image"))
    writer.close()
    report = enhance_bag(tmp_path / "in", tmp_path / "out", create_enhancer("gamma"), progress=False)
    assert report.frames["/cam/image"] == 2
    assert report.skipped == {"unsupported image encoding '32FC1'": 1}
    out = _read(tmp_path / "out")
    assert len(out["/cam/image"]) == 3 and len(out["/cam/enhanced/image"]) == 2
    assert not report.camera_infos and "/cam/enhanced/camera_info" not in out  # no CameraInfo in the input
    assert [s.frames_failed for _, _, s in out["/cam/enhanced/image/stats"]] == [0, 1]


def test_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder, _ = _folder(tmp_path, n=2)
    src = tmp_path / "in"
    assert main(["bag", "make", str(folder), str(src), "--format", "sqlite3"]) == 0
    assert main(["bag", "make", str(folder), str(src)]) == 2  # exists
    assert "--overwrite" in capsys.readouterr().err
    assert main(["bag", "enhance", str(src), str(tmp_path / "o"), "--model", "gamma", "--topics", "/nope"]) == 2
    err = capsys.readouterr().err
    assert "/nope" in err and "/camera/image_raw" in err and "/camera/camera_info" in err
    assert main(["bag", "enhance", str(src), str(tmp_path / "o"), "--model", "gamma"]) == 0
    assert main(["bag", "enhance", str(src), str(tmp_path / "o"), "--model", "gamma"]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert main(["bag", "enhance", str(src), str(tmp_path / "o"), "--model", "he", "--overwrite"]) == 0
    with pytest.raises(BagError, match="no such bag"):
        open_reader(tmp_path / "missing")
    (tmp_path / "notabag").mkdir()
    (tmp_path / "notabag" / "keep.txt").write_text("x")
    assert main(["bag", "enhance", str(src), str(tmp_path / "notabag"), "--model", "gamma", "--overwrite"]) == 2
    assert (tmp_path / "notabag" / "keep.txt").exists()  # --overwrite never removes a folder that is not a bag


def test_eval_report(tmp_path: Path) -> None:
    folder, _ = _folder(tmp_path, n=6, w=64, h=48)
    src = tmp_path / "in"
    assert main(["bag", "make", str(folder), str(src), "--fps", "5"]) == 0
    out = tmp_path / "report"
    assert main(["bag", "eval", str(src), "--models", "gamma,clahe", "-o", str(out), "--max-frames", "4"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["input"]["frames"] == 4 and report["input"]["size"] == [64, 48]
    # Each model without smoothing and with the node's default smoothing (no --params: the node's defaults).
    assert set(report["models"]) == {"gamma", "clahe", "gamma (smoothing 0.6)", "clahe (smoothing 0.6)"}
    gamma = report["models"]["gamma"]
    assert gamma["quality"]["brightness"]["after"] > gamma["quality"]["brightness"]["before"]
    assert set(gamma["quality"]) == {"brightness", "contrast", "entropy", "colourfulness"}
    assert gamma["latency_ms"]["p95"] >= gamma["latency_ms"]["median"] > 0 and gamma["throughput_fps"] > 0
    assert gamma["flicker"]["input"] > 0 and gamma["flicker"]["output"] > 0 and gamma["loe"] >= 0
    assert len(report["series"]["luma"]["gamma"]) == 4
    # Relative flicker: the input's mean |ΔL| / L, from the luma series in the report.
    luma = np.asarray(report["series"]["luma"]["raw"])
    expected = np.mean(np.abs(np.diff(luma)) / ((luma[1:] + luma[:-1]) / 2))
    assert gamma["flicker"]["input"] == pytest.approx(expected) and len(report["series"]["flicker"]["gamma"]) == 3
    assert gamma["local_flicker"]["input"] >= gamma["flicker"]["input"] * 0.5
    assert gamma["local_flicker"]["ratio"] == pytest.approx(
        gamma["local_flicker"]["output"] / gamma["local_flicker"]["input"]
    )
    smoothed = report["models"]["gamma (smoothing 0.6)"]
    assert smoothed["smoothing"] == 0.6 and gamma["smoothing"] == 0.0
    assert smoothed["flicker"]["output"] != gamma["flicker"]["output"]  # the smoothing changed the output
    page = (out / "report.html").read_text()
    for fig in ("latency", "brightness", "flicker", "thumbnails"):
        assert f'id="fig-{fig}" alt="{fig}" src="data:image/png;base64,' in page
    assert 'id="fig-detections"' not in page and "://" not in page  # self-contained: no external links
    assert "0.000" not in page.split("<h2>Flicker</h2>")[1].split("<h2>")[0]  # readable digits


def test_eval_reads_the_node_parameter_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder, _ = _folder(tmp_path, n=6, w=64, h=48)
    src = tmp_path / "in"
    assert main(["bag", "make", str(folder), str(src), "--fps", "5"]) == 0
    params = tmp_path / "params.yaml"
    # No smoothing, and a gate so low that the brighter half of the frames is passed through.
    params.write_text("/**:\n  ros__parameters:\n    smoothing: 0.0\n    gate_threshold: 0.1\n")
    out = tmp_path / "report"
    argv = ["bag", "eval", str(src), "--models", "gamma", "-o", str(out), "--params", str(params)]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["models"]) == {"gamma"} and report["settings"]["gate_threshold"] == 0.1
    gated = report["models"]["gamma"]["gated_frames"]
    luma_in, luma_out = (np.asarray(report["series"]["luma"][k]) for k in ("raw", "gamma"))
    assert 0 < gated < 6 and np.sum(luma_in == luma_out) == gated  # gated frames are published unchanged
    params.write_text("/**:\n  ros__parameters:\n    smoothing: 2.0\n")
    assert main(argv) == 2
    assert "params.yaml: smoothing: 2.0 is outside range" in capsys.readouterr().err


def test_detector_enhance_and_eval(tmp_path: Path) -> None:
    model = shared_path("models", "detect", "yolov8n.pt")
    night = shared_path("data", "night", "bdd100k_night")
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, path in enumerate(sorted(night.glob("*.jpg"))[:2]):
        cv2.imwrite(str(folder / f"{i}.png"), cv2.resize(cv2.imread(str(path)), (320, 180)))
    src = make_bag(folder, tmp_path / "in", progress=False).path
    from llie_core.bag.evaluate import evaluate_frames, read_frames
    from llie_core.bag.report import write_report
    from llie_core.detect import Detector

    detector = Detector(model, imgsz=320)
    report = enhance_bag(src, tmp_path / "out", create_enhancer("gamma"), detector=detector, progress=False)
    dets = _read(tmp_path / "out")["/camera/enhanced/image_raw/detections"]
    assert len(dets) == 2 and sum(len(m.detections) for _, _, m in dets) == report.detections
    assert [_stamp(m) for _, _, m in dets] == [DEFAULT_START_NS, DEFAULT_START_NS + round(1e9 / 30)]
    results, thumbs = evaluate_frames(read_frames(src), {"gamma": (create_enhancer("gamma"), "classical")}, detector)
    d = results["models"]["gamma"]["detections"]
    assert d["raw"]["total"] == results["raw"]["detections"]["total"]
    assert 0 <= d["matched"] <= min(d["raw"]["total"], d["enhanced"]["total"])
    assert d["only_on_enhanced"] == d["enhanced"]["total"] - d["matched"]
    assert sum(d["enhanced"]["per_class"].values()) == d["enhanced"]["total"]
    _, page = write_report(results, thumbs, tmp_path / "report")
    assert 'id="fig-detections"' in page.read_text()


def test_ros1_bag_to_ros2(tmp_path: Path) -> None:
    from rosbags.highlevel import AnyReader
    from rosbags.rosbag1 import Writer
    from rosbags.typesys import Stores, get_typestore

    st = get_typestore(Stores.ROS1_NOETIC)
    image, header, time = (
        st.types[n] for n in ("sensor_msgs/msg/Image", "std_msgs/msg/Header", "builtin_interfaces/msg/Time")
    )
    text = st.types["std_msgs/msg/String"]
    with Writer(tmp_path / "in.bag") as writer:
        cam = writer.add_connection("/cam/image_raw", "sensor_msgs/msg/Image", typestore=st)
        chat = writer.add_connection("/chatter", "std_msgs/msg/String", typestore=st)
        for i in range(3):
            hdr = header(seq=i, stamp=time(sec=5, nanosec=i), frame_id="c")
            pixels = np.full(4, 20 + i, np.uint8)
            msg = image(header=hdr, height=2, width=2, encoding="mono8", is_bigendian=0, step=2, data=pixels)
            writer.write(cam, 5_000_000_000 + i, st.serialize_ros1(msg, "sensor_msgs/msg/Image"))
            writer.write(chat, 5_000_000_000 + i, st.serialize_ros1(text(data=f"hi{i}"), "std_msgs/msg/String"))
    report = enhance_bag(tmp_path / "in.bag", tmp_path / "out", create_enhancer("gamma"), progress=False)
    assert report.frames["/cam/image_raw"] == 3 and report.copied == 6 and report.error is None
    got: dict[str, list] = {}
    with AnyReader([tmp_path / "out"]) as reader:  # ROS 2 bag, decoded from its stored definitions
        for conn, _, raw in reader.messages():
            got.setdefault(conn.topic, []).append(reader.deserialize(raw, conn.msgtype))
    assert [m.data for m in got["/chatter"]] == ["hi0", "hi1", "hi2"]
    assert [m.header.stamp.nanosec for m in got["/cam/image_raw"]] == [0, 1, 2]
    assert [bytes(m.data) for m in got["/cam/image_raw"]] == [bytes([20 + i] * 4) for i in range(3)]
    assert [m.header.stamp.nanosec for m in got["/cam/enhanced/image_raw"]] == [0, 1, 2]
    assert all(np.asarray(m.data).min() > 20 + i for i, m in enumerate(got["/cam/enhanced/image_raw"]))


def test_enhance_and_eval_with_an_iat_model(tmp_path: Path) -> None:
    # The bag tools run the IAT family through the same engine and stream processor (smoothing its estimate).
    shared_path("weights", "reference", "iat_student.pth")
    folder, _ = _folder(tmp_path, n=3, w=96, h=64)
    src = tmp_path / "in"
    assert main(["bag", "make", str(folder), str(src), "--fps", "5"]) == 0
    common = ["--weights", "reference", "--scale-factor", "2"]
    assert main(["bag", "enhance", str(src), str(tmp_path / "out"), "--model", "iat_student", *common]) == 0
    out = _read(tmp_path / "out")
    stats = [m for _, _, m in out["/camera/enhanced/image_raw/stats"]]
    assert len(out["/camera/enhanced/image_raw"]) == 3 and {s.model for s in stats} == {"iat_student"}
    assert all(len(s.curve_mean) == 16 for s in stats)  # smoothed estimate: 6 map means, gamma, M
    report = tmp_path / "report"
    assert main(["bag", "eval", str(src), "--models", "iat_student,gamma", *common, "-o", str(report)]) == 0
    models = json.loads((report / "report.json").read_text())["models"]
    assert {"iat_student", "iat_student (smoothing 0.6)", "gamma"} <= set(models)
    brightness = models["iat_student"]["quality"]["brightness"]
    assert brightness["after"] > brightness["before"]
