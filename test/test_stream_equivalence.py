"""What `llie bag enhance --params` writes is what the enhancer node publishes for the same frames and parameters.

The node side is the node's own processing (llie_ros.processing.EnhancerCore around llie_core.stream.StreamProcessor,
the model built by the node's factory from the parameter file's values), synchronous, with rosbags message classes;
frames and camera_info are fed in the bag's order. Images must be byte-identical and the stats equal except the
wall-clock latency, with gating and temporal smoothing firing, a frame missing from the recording and a bad frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("rosbags")

from llie_core import imgmsg  # noqa: E402
from llie_core.bag.io import CAMERA_INFO_TYPE, IMAGE_TYPE, STATS_TYPE, open_reader, open_writer, typestore  # noqa: E402
from llie_core.bag.make import camera_info  # noqa: E402
from llie_core.cli import main  # noqa: E402
from llie_core.params import ENHANCER_BUILD_KEYS  # noqa: E402
from llie_core.params_file import load_params_file  # noqa: E402
from llie_core.stream import StreamProcessor, StreamSettings  # noqa: E402
from llie_ros.processing import EnhancerCore, ModelHolder, MsgTypes, Publishers, enhancer_factory  # noqa: E402

W, H = 64, 48
T0 = 1_700_000_000 * 1_000_000_000
PERIOD = 100_000_000
# Mean levels per frame: dark and varying (smoothing matters), then bright enough for the gate (0.3), then a level
# the hysteresis keeps gated (above 0.3 - 0.1), then dark again.
LEVELS = [20, 45, 25, 50, 30, 40, 115, 120, 70, 35, 55, 25, 45, 30]
MISSING = 4  # recorded camera_info, no image: a frame lost before the recorder
BAD = 10  # an image in an encoding no node takes: counted as failed


def _write_bag(path: Path) -> None:
    store = typestore()
    rng = np.random.default_rng(1)
    writer = open_writer(path, "mcap")
    image_conn = writer.add_connection("/camera/image_raw", IMAGE_TYPE, typestore=store)
    info_conn = writer.add_connection("/camera/camera_info", CAMERA_INFO_TYPE, typestore=store)
    ramp = np.linspace(-15, 15, W)[None, :, None]
    for i, level in enumerate(LEVELS):
        t = T0 + i * PERIOD
        sec, nanosec = divmod(t, 1_000_000_000)
        hdr = store.types["std_msgs/msg/Header"](
            stamp=store.types["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec), frame_id="cam"
        )
        frame = np.clip(level + ramp + rng.normal(0, 6, (H, W, 3)), 0, 255).astype(np.uint8)
        fields = imgmsg.array_to_image_fields(frame, "bgr8", hdr)
        if i == BAD:
            fields.update(encoding="32FC1", step=W * 4, data=np.zeros(H * W * 4, np.uint8))
        if i != MISSING:
            writer.write(image_conn, t, store.serialize_cdr(store.types[IMAGE_TYPE](**fields), IMAGE_TYPE))
        writer.write(info_conn, t, store.serialize_cdr(camera_info(hdr, W, H), CAMERA_INFO_TYPE))
    writer.close()


def _params(path: Path, model: str, smoothing: float) -> Path:
    path.write_text(
        "/**:\n  ros__parameters:\n"
        f"    model: {model}\n    smoothing: {smoothing}\n    gate_threshold: 0.3\n    gate_hysteresis: 0.1\n"
    )
    return path


def _through_the_node(bag: Path, params: Path) -> tuple[list[Any], list[Any]]:
    """(published images, published stats as a subscriber receives them) of the node's processing of the bag."""
    store = typestore()

    def received(msg: Any) -> None:  # through CDR, as over DDS: float32 fields are float32 then
        stats.append(store.deserialize_cdr(store.serialize_cdr(msg, STATS_TYPE), STATS_TYPE))

    values = load_params_file(params)
    holder = ModelHolder(enhancer_factory, ENHANCER_BUILD_KEYS)
    assert holder.load(values) == (True, "")
    images: list[Any] = []
    stats: list[Any] = []
    core = EnhancerCore(
        StreamProcessor(holder, StreamSettings.from_params(values)),
        MsgTypes(image=store.types[IMAGE_TYPE], stats=store.types[STATS_TYPE]),
        Publishers(image=images.append, stats=received, camera_info=lambda msg: None),
    )
    reader = open_reader(bag)
    try:
        for conn, _, raw in reader.messages():
            msg = reader.deserialize(raw, conn.msgtype)
            (core.offer if conn.msgtype == IMAGE_TYPE else core.on_camera_info)(msg)
    finally:
        reader.close()
    return images, stats


def _through_bag_enhance(bag: Path, params: Path, out: Path) -> tuple[list[Any], list[Any]]:
    assert main(["bag", "enhance", str(bag), str(out), "--params", str(params)]) == 1  # 1: the bad frame, skipped
    reader = open_reader(out)
    topics: dict[str, list[Any]] = {}
    try:
        for conn, _, raw in reader.messages():
            topics.setdefault(conn.topic, []).append(reader.deserialize(raw, conn.msgtype))
    finally:
        reader.close()
    return topics["/camera/enhanced/image_raw"], topics["/camera/enhanced/image_raw/stats"]


def _image_fields(msg: Any) -> tuple:
    h = msg.header
    return (h.stamp.sec, h.stamp.nanosec, h.frame_id, msg.height, msg.width, msg.encoding, msg.is_bigendian, msg.step)


@pytest.mark.parametrize("model", ["tiny_dce", "clahe"])  # curve smoothing; gain smoothing
def test_bag_enhance_publishes_what_the_node_publishes(tmp_path: Path, model: str) -> None:
    bag = tmp_path / "in"
    _write_bag(bag)
    params = _params(tmp_path / "params.yaml", model, 0.6)
    node_images, node_stats = _through_the_node(bag, params)
    bag_images, bag_stats = _through_bag_enhance(bag, params, tmp_path / "out")

    assert len(node_images) == len(bag_images) == len(LEVELS) - 2
    for ours, theirs in zip(node_images, bag_images, strict=True):
        assert _image_fields(ours) == _image_fields(theirs)
        assert bytes(np.asarray(ours.data)) == bytes(np.asarray(theirs.data))
    for ours, theirs in zip(node_stats, bag_stats, strict=True):
        for name in ours.__dataclass_fields__:
            if name in ("__msgtype__", "latency_ms"):
                continue
            a, b = getattr(ours, name), getattr(theirs, name)
            if name == "header":
                assert (a.stamp.sec, a.stamp.nanosec, a.frame_id) == (b.stamp.sec, b.stamp.nanosec, b.frame_id)
            elif name == "curve_mean":
                np.testing.assert_array_equal(np.asarray(a, np.float32), np.asarray(b, np.float32))
            else:
                assert a == b, name

    # What the comparison covered: gating on and off again, smoothing, a missing frame, a failed frame.
    gated = [s.gated for s in bag_stats]
    assert gated.index(True) > 0 and True in gated[gated.index(True) :] and not gated[-1]
    assert sum(gated) == 3  # 115, 120, and 70 held by the hysteresis
    last = bag_stats[-1]
    assert (last.frames_received, last.frames_processed, last.frames_failed) == (len(LEVELS) - 1, len(LEVELS) - 2, 1)
    assert last.frames_lost == 1 and last.model == model
    if model == "tiny_dce":
        assert {len(s.curve_mean) for s, g in zip(bag_stats, gated, strict=True) if not g} == {3}
    unsmoothed, _ = _through_bag_enhance(bag, _params(tmp_path / "off.yaml", model, 0.0), tmp_path / "off")
    differ = [
        bytes(np.asarray(a.data)) != bytes(np.asarray(b.data)) for a, b in zip(bag_images, unsmoothed, strict=True)
    ]
    assert differ[0] is False and sum(differ) >= 5  # the first frame has no past; later ones are smoothed
