"""``llie live``: sources, keep-latest dropping, the Foxglove WebSocket channels, the MCAP recording, bad input."""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from llie_core.cli import main
from llie_core.live.feed import Feed
from llie_core.live.session import LiveSession
from llie_core.live.sources import FrameSource, SourceError, SourceFrame, open_source
from llie_core.live.window import WindowError, check_display, draw_lines
from llie_core.stream import FixedModel, FrameStats, StreamProcessor, StreamSettings

REPO = Path(__file__).resolve().parents[1]
SHAPE = (48, 64, 3)
TOPICS = {
    "/camera/image_raw/compressed": "foxglove.CompressedImage",
    "/camera/enhanced/image_raw/compressed": "foxglove.CompressedImage",
    "/camera/enhanced/annotations": "foxglove.ImageAnnotations",
    "/camera/enhanced/stats": "llie.LiveStats",
}


def write_video(path: Path, frames: int, fps: float = 20.0) -> Path:
    """A dark test video: a bright block moving over a ramp of grey levels (frame i has level 20 + i)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (SHAPE[1], SHAPE[0]))
    for i in range(frames):
        frame = np.full(SHAPE, 20 + i, np.uint8)
        frame[10:30, 5 + i % 40 : 15 + i % 40] = 160
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("live") / "night.avi", 12)


def protobuf_class(name: str, schema: bytes) -> Any:
    """The message class of a protobuf schema as Foxglove advertises it (a FileDescriptorSet)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(schema).file:
        pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


def stamp(ts: Any) -> int:
    return ts.seconds * 1_000_000_000 + ts.nanos


def decode_image(msg: Any) -> np.ndarray:
    assert msg.format == "jpeg"
    image = cv2.imdecode(np.frombuffer(msg.data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


class SlowModel:
    """A stand-in enhancer that takes ``seconds`` per frame (and brightens, so the output differs)."""

    name, backend = "slow", "test"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def enhance(self, image: np.ndarray, rgb: bool = False) -> np.ndarray:
        time.sleep(self.seconds)
        return np.clip(image.astype(np.int16) * 2, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- sources and bad input


def test_bad_sources_name_the_source(tmp_path, capsys) -> None:
    with pytest.raises(SourceError, match="nope.mp4: no such file"):
        open_source(str(tmp_path / "nope.mp4"))
    (tmp_path / "folder").mkdir()
    with pytest.raises(SourceError, match="folder: a folder that is not a bag"):
        open_source(str(tmp_path / "folder"))
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"not a video at all")
    with pytest.raises(SourceError, match="fake.mp4: not a readable video"):
        open_source(str(fake))
    with pytest.raises(SourceError, match=r"http://127\.0\.0\.1:1/x\.mjpg: cannot open the stream"):
        open_source("http://127.0.0.1:1/x.mjpg")
    with pytest.raises(SourceError, match="camera 97: cannot open"):
        open_source("97")
    with pytest.raises(SourceError, match="--topic applies to bags only"):
        open_source(str(write_video(tmp_path / "v.avi", 2)), topic="/camera/image_raw")
    # Through the command: status 2, the source named, nothing served or recorded.
    record = tmp_path / "out.mcap"
    assert main(["live", str(tmp_path / "missing.avi"), "--port", "0", "--record", str(record)]) == 2
    assert "missing.avi: no such file" in capsys.readouterr().err
    assert not record.exists()


def test_setup_errors_are_clear(video, tmp_path, capsys) -> None:
    record = tmp_path / "taken.mcap"
    record.write_bytes(b"keep me")
    assert main(["live", str(video), "--port", "0", "--record", str(record)]) == 2
    assert "taken.mcap exists; pass --overwrite" in capsys.readouterr().err
    assert record.read_bytes() == b"keep me"
    assert main(["live", "http://127.0.0.1:1/x", "--port", "0", "--no-realtime"]) == 2
    assert "cannot open the stream" in capsys.readouterr().err
    assert main(["live", str(video), "--port", "0", "--model", "no_such_model"]) == 2
    assert "no_such_model" in capsys.readouterr().err


def test_window_needs_a_display(video, monkeypatch, capsys) -> None:
    with pytest.raises(WindowError, match="DISPLAY"):
        check_display(env={}, build_info="  GUI:  QT5")
    with pytest.raises(WindowError, match="no GUI backend"):
        check_display(env={"DISPLAY": ":0"}, build_info="  GUI:                           NONE")
    check_display(env={"DISPLAY": ":0"}, build_info="  GUI:  QT5")  # a display and a GUI: fine
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if sys.platform.startswith("linux"):
        assert main(["live", str(video), "--port", "0", "--window"]) == 2
        assert "--window needs a display" in capsys.readouterr().err


def test_overlay_lines_are_drawn() -> None:
    image = np.full((60, 200, 3), 200, np.uint8)
    out = draw_lines(image.copy(), ["tiny_dce: enhance 1.0 ms", "30.0 fps | 0 dropped"])
    band = out[:44, :150]
    assert (band < 200).any() and (band == 255).any()  # darkened band with white text
    assert (out[50:] == 200).all()  # below the band: untouched


# ---------------------------------------------------------------- keep-latest


def test_keep_latest_drops_and_counts_frames_a_slow_model_cannot_take(tmp_path) -> None:
    path = write_video(tmp_path / "fast.avi", 40, fps=200.0)  # 5 ms a frame, a model taking 40 ms
    processor = StreamProcessor(FixedModel(SlowModel(0.04)), StreamSettings(smoothing=0.0, auto_gate=False))
    source = open_source(str(path))
    feed = Feed(source, processor.stats, keep_latest=True, pace=True)
    summary = LiveSession(processor).run(feed)
    assert summary.read == 40 and summary.failed == 0
    assert summary.dropped > 0 and summary.processed >= 1
    assert summary.processed + summary.dropped == summary.read  # every frame read is either processed or dropped
    assert summary.stopped_by == "end of source"
    # Stopped early: the frame left waiting counts as dropped, so the books still balance.
    processor = StreamProcessor(FixedModel(SlowModel(0.04)), StreamSettings(smoothing=0.0, auto_gate=False))
    summary = LiveSession(processor).run(Feed(open_source(str(path)), processor.stats, keep_latest=True, pace=True), 3)
    assert summary.processed == 3 and summary.stopped_by == "--max-frames"
    assert summary.processed + summary.dropped == summary.read and summary.unfinished == 0
    # Every frame (no pacing, no reader thread): the same slow model processes all 40, none dropped.
    processor = StreamProcessor(FixedModel(SlowModel(0.005)), StreamSettings(smoothing=0.0, auto_gate=False))
    feed = Feed(open_source(str(path)), processor.stats, keep_latest=False, pace=False)
    summary = LiveSession(processor).run(feed)
    assert (summary.read, summary.processed, summary.dropped) == (40, 40, 0)
    assert set(summary.latency_ms) == {"enhance", "publish", "total"}  # no detector: no detect latency
    assert summary.latency_ms["enhance"][0] >= 5.0  # the stand-in sleeps 5 ms


def test_frames_lost_before_llie_are_counted_from_the_source_timeline() -> None:
    class Gappy(FrameSource):
        """30 fps; the images of frames 1 and 12 are missing (their camera_info came).

        Frame 1 is lost before the stamps tell the period: only its camera_info shows it (the feed wires it up).
        """

        name = "gappy"

        def frames(self):
            for i in range(20):
                t = 1_000_000_000 + i * 33_333_333
                self.on_camera_info(t)
                if i not in (1, 12):
                    yield SourceFrame(np.full(SHAPE, 30, np.uint8), "bgr8", t, t)

    processor = StreamProcessor(FixedModel(SlowModel(0.0)), StreamSettings(smoothing=0.0, auto_gate=False))
    summary = LiveSession(processor).run(Feed(Gappy(), processor.stats, keep_latest=False, pace=False))
    assert (summary.read, summary.processed, summary.lost) == (18, 18, 2)


def test_failing_frames_are_counted_and_the_run_goes_on(video) -> None:
    class Flaky(SlowModel):
        calls = 0

        def enhance(self, image: np.ndarray, rgb: bool = False) -> np.ndarray:
            Flaky.calls += 1
            if Flaky.calls % 3 == 0:
                raise RuntimeError(f"bad frame {Flaky.calls}")
            return image

    warnings: list[str] = []
    processor = StreamProcessor(FixedModel(Flaky(0.0)), StreamSettings(smoothing=0.0, auto_gate=False))
    feed = Feed(open_source(str(video)), processor.stats, keep_latest=False, pace=False)
    summary = LiveSession(processor, warn=warnings.append).run(feed)
    assert (summary.read, summary.processed, summary.failed) == (12, 8, 4)
    assert len(warnings) == 1 and "bad frame 3" in warnings[0]  # one warning per kind of failure


# ---------------------------------------------------------------- MCAP recording


def read_mcap(path: Path) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """({topic: (encoding, schema name)}, {topic: decoded messages}) of a recording, via the mcap reader."""
    from mcap.reader import make_reader

    channels, messages = {}, defaultdict(list)
    with path.open("rb") as f:
        reader = make_reader(f)
        summary = reader.get_summary()
        assert summary is not None  # a finished file: summary and footer written on close
        for channel in summary.channels.values():
            schema = summary.schemas[channel.schema_id]
            channels[channel.topic] = (channel.message_encoding, schema.name)
        classes: dict[int, Any] = {}
        for schema, channel, message in reader.iter_messages():
            if channel.message_encoding == "json":
                messages[channel.topic].append(json.loads(message.data))
            else:
                if schema.id not in classes:
                    classes[schema.id] = protobuf_class(schema.name, schema.data)
                messages[channel.topic].append(classes[schema.id].FromString(message.data))
    return channels, messages


def test_record_writes_every_channel_and_the_messages_decode(video, tmp_path, capsys) -> None:
    pytest.importorskip("foxglove")
    pytest.importorskip("mcap")
    record = tmp_path / "live.mcap"
    args = ["live", str(video), "--port", "0", "--record", str(record), "--no-realtime", "--model", "tiny_dce"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "12 frames read, 12 processed, 0 dropped, 0 failed" in out and "stopped by end of source" in out
    assert re.search(r"latency ms, median / p95: enhance [\d.]+ / [\d.]+, publish", out)
    channels, messages = read_mcap(record)
    assert {t: name for t, (_, name) in channels.items()} == TOPICS
    assert channels["/camera/enhanced/stats"][0] == "json"
    assert {t: len(m) for t, m in messages.items()} == dict.fromkeys(TOPICS, 12)
    raw, enhanced = messages["/camera/image_raw/compressed"], messages["/camera/enhanced/image_raw/compressed"]
    for i, (r, e) in enumerate(zip(raw, enhanced, strict=True)):
        r_img, e_img = decode_image(r), decode_image(e)
        assert r_img.shape == e_img.shape == SHAPE
        assert abs(float(np.median(r_img)) - (20 + i)) <= 3  # frame i of the video, in order
        assert e_img.mean() > r_img.mean() + 10  # tiny_dce brightened it
        assert stamp(r.timestamp) == stamp(e.timestamp)
    # The annotations of a frame carry its image's stamp (Foxglove's image panel pairs them by it) and the latency.
    for image, notes in zip(raw, messages["/camera/enhanced/annotations"], strict=True):
        assert not notes.points  # no detector: no boxes
        assert [stamp(t.timestamp) for t in notes.texts] == [stamp(image.timestamp)] * 2
        assert notes.texts[0].text.startswith("tiny_dce: enhance ")
    stats = messages["/camera/enhanced/stats"]
    assert [s["frames_processed"] for s in stats] == list(range(1, 13))
    assert all(s["model"] == "tiny_dce" and s["latency_ms"] >= s["enhance_ms"] > 0 for s in stats)
    assert [s["stamp_ns"] for s in stats] == [stamp(m.timestamp) for m in raw]
    assert set(FrameStats.__dataclass_fields__) <= set(stats[0])


def test_record_with_detector_has_boxes_and_labels(tmp_path, capsys) -> None:
    from conftest import shared_path

    pytest.importorskip("foxglove")
    pytest.importorskip("ultralytics")
    night = shared_path("data", "night", "videos", "night_highway_640x360.mp4")
    model = shared_path("models", "detect", "yolov8n.pt")
    record = tmp_path / "night.mcap"
    args = ["live", str(night), "--port", "0", "--record", str(record), "--no-realtime", "--max-frames", "4"]
    assert main([*args, "--detector", str(model), "--conf", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "stopped by --max-frames" in out and re.search(r", detect [\d.]+ / [\d.]+", out)
    _, messages = read_mcap(record)
    notes, stats = messages["/camera/enhanced/annotations"], messages["/camera/enhanced/stats"]
    assert len(notes) == len(stats) == 4
    assert [len(n.points) for n in notes] == [s["detections"] for s in stats]
    boxes = [(p, t) for n in notes for p, t in zip(n.points, n.texts, strict=False)]
    assert boxes, "YOLO found nothing in the first frames of the night drive at conf 0.1"
    for box, label in boxes:
        xs, ys = [p.x for p in box.points], [p.y for p in box.points]
        assert len(box.points) == 4 and 0 <= min(xs) < max(xs) <= 640 and 0 <= min(ys) < max(ys) <= 360
        assert re.fullmatch(r"[a-z ]+ 0\.\d\d", label.text)
        assert (label.position.x, label.position.y) == (min(xs), min(ys))


def test_bag_source_through_the_command(video, tmp_path, capsys) -> None:
    pytest.importorskip("rosbags")
    pytest.importorskip("foxglove")
    from llie_core.bag.make import make_bag

    bag = tmp_path / "bag"
    make_bag(video, bag, progress=False)
    assert main(["live", str(bag), "--port", "0", "--topic", "/nope"]) == 2
    err = capsys.readouterr().err
    assert "/nope" in err and "image topics: /camera/image_raw" in err
    record = tmp_path / "bag.mcap"
    assert main(["live", str(bag), "--port", "0", "--record", str(record), "--no-realtime"]) == 0
    out = capsys.readouterr().out
    assert "/camera/image_raw" in out and "12 frames read, 12 processed, 0 dropped, 0 failed, 0 lost" in out
    _, messages = read_mcap(record)
    assert len(messages["/camera/image_raw/compressed"]) == 12


# ---------------------------------------------------------------- an HTTP MJPEG stream (what an IP camera serves)


class MjpegServer:
    """Serves ``frames`` flat grey frames (level 10·i) as multipart/x-mixed-replace JPEG on localhost, then ends."""

    def __init__(self, frames: int, period: float = 0.02) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                for i in range(owner.frames):
                    ok, buf = cv2.imencode(".jpg", np.full(SHAPE, 10 * i, np.uint8))
                    head = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(buf)
                    self.wfile.write(head + buf.tobytes() + b"\r\n")
                    self.wfile.flush()
                    time.sleep(owner.period)

            def log_message(self, *args: Any) -> None:
                pass

        self.frames, self.period = frames, period
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stream.mjpg"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_http_mjpeg_stream_is_a_live_source(tmp_path, capsys) -> None:
    pytest.importorskip("foxglove")
    stream = MjpegServer(15)
    try:
        record = tmp_path / "stream.mcap"
        assert main(["live", stream.url, "--port", "0", "--record", str(record)]) == 0
    finally:
        stream.close()
    out = capsys.readouterr().out
    found = re.search(r"(\d+) frames read, (\d+) processed, (\d+) dropped, 0 failed", out)
    assert found, out
    read, processed, dropped = map(int, found.groups())
    assert read >= 12 and processed + dropped == read and "stopped by end of source" in out
    _, messages = read_mcap(record)
    levels = [float(np.median(decode_image(m))) for m in messages["/camera/image_raw/compressed"]]
    assert len(levels) == processed
    assert levels == sorted(levels) and levels[-1] >= 10 * 11  # the stream's frames, in order, up to its last ones


# ---------------------------------------------------------------- a Foxglove WebSocket client, Ctrl-C


def _lines(stream: Any, into: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        into.put(line)


def test_websocket_client_subscribes_and_decodes_every_channel(video) -> None:
    pytest.importorskip("foxglove")
    websockets = pytest.importorskip("websockets.sync.client")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"}
    # Ctrl-C as in a terminal: a test run started in the background (nohup, `&` in a script) hands its children
    # SIGINT ignored, and Python then keeps ignoring it; the child turns it back on first.
    start = "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    start += "from llie_core.cli import main; sys.exit(main())"
    cmd = [sys.executable, "-c", start, "live", str(video), "--port", "0", "--loop", "--model", "tiny_dce"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        url = None
        while url is None:
            line = lines.get(timeout=120)
            seen.append(line)
            if found := re.search(r"Foxglove: (ws://\S+)", line):
                url = found.group(1)
        got: dict[str, list[Any]] = defaultdict(list)
        with websockets.connect(url, subprotocols=["foxglove.sdk.v1", "foxglove.websocket.v1"]) as ws:
            info = json.loads(ws.recv(timeout=30))
            assert info["op"] == "serverInfo"
            channels: dict[int, dict[str, Any]] = {}
            while set(TOPICS) - {c["topic"] for c in channels.values()}:
                message = json.loads(ws.recv(timeout=30))
                if message["op"] == "advertise":
                    channels.update({c["id"]: c for c in message["channels"]})
            assert {c["topic"]: c["schemaName"] for c in channels.values()} == TOPICS
            subs = {i: channels[cid] for i, cid in enumerate(channels)}
            ws.send(
                json.dumps(
                    {"op": "subscribe", "subscriptions": [{"id": i, "channelId": c["id"]} for i, c in subs.items()]}
                )
            )
            decoders = {
                i: (lambda data: json.loads(data))
                if c["encoding"] == "json"
                else protobuf_class(c["schemaName"], base64.b64decode(c["schema"])).FromString
                for i, c in subs.items()
            }
            while min((len(got[t]) for t in TOPICS), default=0) < 3:
                data = ws.recv(timeout=30)
                if isinstance(data, str):
                    continue  # status messages
                opcode, sub, _receive_ns = struct.unpack_from("<BIQ", data)
                assert opcode == 0x01  # message data
                got[subs[sub]["topic"]].append(decoders[sub](data[13:]))
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER prints where every thread is
            time.sleep(2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(10)
    while not lines.empty():
        seen.append(lines.get_nowait())
    output = "".join(seen)
    assert proc.returncode == 0, output
    assert "stopped by Ctrl-C" in output and re.search(r"\d+ frames read, \d+ processed", output)
    images = got["/camera/image_raw/compressed"] + got["/camera/enhanced/image_raw/compressed"]
    assert all(decode_image(m).shape == SHAPE for m in images)
    notes = got["/camera/enhanced/annotations"]
    assert all(n.texts and n.texts[0].text.startswith("tiny_dce: enhance ") for n in notes)
    # Annotations carry their image's stamp (the image panel pairs them by it): most received ones match an image.
    image_stamps = {stamp(m.timestamp) for m in got["/camera/image_raw/compressed"]}
    assert len({stamp(n.texts[0].timestamp) for n in notes} & image_stamps) >= 2
    assert all(s["model"] == "tiny_dce" and "enhance_ms" in s for s in got["/camera/enhanced/stats"])
    counts = Counter(s["frames_processed"] for s in got["/camera/enhanced/stats"])
    assert max(counts.values()) == 1  # one stats message per processed frame


def test_node_parameter_file_applies_and_command_line_overrides_it(video, tmp_path, capsys) -> None:
    pytest.importorskip("foxglove")
    params = tmp_path / "enhancer.yaml"
    params.write_text(
        "/**:\n  ros__parameters:\n    model: clahe\n    gate_threshold: 0.05\n    gate_hysteresis: 0.0\n"
    )
    base = ["live", str(video), "--port", "0", "--params", str(params), "--no-realtime", "--max-frames", "3"]
    for extra, model in (([], "clahe"), (["--model", "tiny_dce"], "tiny_dce")):
        record = tmp_path / f"{model}.mcap"
        assert main([*base, *extra, "--record", str(record)]) == 0
        assert "3 processed, 0 dropped, 0 failed, 0 lost before llie, 3 gated" in capsys.readouterr().out
        stats = read_mcap(record)[1]["/camera/enhanced/stats"]
        assert [(s["model"], s["gated"]) for s in stats] == [(model, True)] * 3  # every frame above the gate of 0.05
    params.write_text("/**:\n  ros__parameters:\n    gate_threshold: 2.0\n")
    assert main(base) == 2
    assert "enhancer.yaml" in capsys.readouterr().err
