"""Image/CompressedImage <-> numpy conversion against the real ROS 2 message classes from rosbags."""

from __future__ import annotations

import array as pyarray
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from llie_core.imgmsg import (
    SUPPORTED_ENCODINGS,
    FrameError,
    array_to_compressed_fields,
    array_to_image_fields,
    compressed_msg_to_array,
    image_msg_to_array,
    working_encoding,
)

typesys = pytest.importorskip("rosbags.typesys", reason="rosbags provides the real ROS 2 message classes")
STORE = typesys.get_typestore(typesys.Stores.ROS2_HUMBLE)
Image = STORE.types["sensor_msgs/msg/Image"]
CompressedImage = STORE.types["sensor_msgs/msg/CompressedImage"]
Header = STORE.types["std_msgs/msg/Header"]
Time = STORE.types["builtin_interfaces/msg/Time"]

RNG = np.random.default_rng(4)
H, W = 6, 8


def header() -> object:
    """A header with a distinctive stamp so copies can be checked."""
    return Header(stamp=Time(sec=1_700_000_123, nanosec=456_789), frame_id="front_camera_optical")


def bgr() -> np.ndarray:
    """A random BGR frame."""
    return RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)


def make_image(arr: np.ndarray, encoding: str, src: str | None = None, **kw) -> Image:
    """A rosbags Image built from the conversion's own fields."""
    return Image(**array_to_image_fields(arr, encoding, header(), src_encoding=src, **kw))


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "8UC3"])
def test_colour_roundtrip_exact(encoding: str) -> None:
    arr = bgr()
    msg = make_image(arr, encoding)
    assert (msg.height, msg.width, msg.step, msg.encoding) == (H, W, W * 3, encoding)
    out, enc = image_msg_to_array(msg)
    assert enc == working_encoding(encoding)
    np.testing.assert_array_equal(out, arr)
    assert msg.header.stamp.sec == 1_700_000_123 and msg.header.frame_id == "front_camera_optical"


def test_rgb8_bytes_are_in_rgb_order() -> None:
    arr = bgr()
    msg = make_image(arr, "rgb8", src="bgr8")
    np.testing.assert_array_equal(msg.data.reshape(H, W, 3), arr[:, :, ::-1])


@pytest.mark.parametrize(("encoding", "work"), [("rgba8", "rgb8"), ("bgra8", "bgr8")])
def test_alpha_dropped_and_written_opaque(encoding: str, work: str) -> None:
    raw = RNG.integers(0, 256, (H, W, 4), dtype=np.uint8)
    msg = Image(header=header(), height=H, width=W, encoding=encoding, is_bigendian=0, step=W * 4, data=raw.reshape(-1))
    out, enc = image_msg_to_array(msg)
    assert enc == work
    np.testing.assert_array_equal(out, raw[:, :, :3])
    back = make_image(out, encoding)
    data = back.data.reshape(H, W, 4)
    np.testing.assert_array_equal(data[:, :, :3], raw[:, :, :3])
    assert (data[:, :, 3] == 255).all()
    raw[:, :, 3] = 255  # with opaque alpha the round trip is exact
    msg.data = raw.reshape(-1)
    np.testing.assert_array_equal(make_image(image_msg_to_array(msg)[0], encoding).data, raw.reshape(-1))


@pytest.mark.parametrize("encoding", ["mono8", "8UC1"])
def test_mono8_roundtrip_exact(encoding: str) -> None:
    arr = RNG.integers(0, 256, (H, W), dtype=np.uint8)
    out, enc = image_msg_to_array(make_image(arr, encoding))
    assert enc == "mono8" and out.dtype == np.uint8
    np.testing.assert_array_equal(out, arr)


@pytest.mark.parametrize("encoding", ["mono16", "16UC1"])
def test_16bit_roundtrip_exact_and_big_endian(encoding: str) -> None:
    arr = RNG.integers(0, 65536, (H, W), dtype=np.uint16)
    msg = make_image(arr, encoding)
    assert msg.step == W * 2 and msg.is_bigendian == 0
    out, enc = image_msg_to_array(msg)
    assert enc == encoding and out.dtype == np.uint16
    np.testing.assert_array_equal(out, arr)
    big = Image(
        header=header(),
        height=H,
        width=W,
        encoding=encoding,
        is_bigendian=1,
        step=W * 2,
        data=np.frombuffer(arr.astype(">u2").tobytes(), np.uint8).copy(),
    )
    np.testing.assert_array_equal(image_msg_to_array(big)[0], arr)


def test_row_padding_is_skipped() -> None:
    arr = bgr()
    step = W * 3 + 5
    padded = np.zeros((H, step), np.uint8)
    padded[:, : W * 3] = arr.reshape(H, -1)
    msg = Image(header=header(), height=H, width=W, encoding="bgr8", is_bigendian=0, step=step, data=padded.reshape(-1))
    np.testing.assert_array_equal(image_msg_to_array(msg)[0], arr)


@pytest.mark.parametrize("encoding", ["yuv422", "uyvy", "yuv422_yuy2", "yuyv"])
def test_yuv422_both_directions(encoding: str) -> None:
    # A frame whose pixel pairs share colour survives 4:2:2 subsampling up to YUV rounding.
    arr = np.repeat(RNG.integers(30, 220, (H, W // 2, 3), dtype=np.uint8), 2, axis=1)
    msg = make_image(arr, encoding, src="bgr8")
    assert msg.step == W * 2 and msg.data.size == H * W * 2
    out, enc = image_msg_to_array(msg)
    assert enc == "bgr8" and out.shape == (H, W, 3)
    assert np.abs(out.astype(int) - arr.astype(int)).max() <= 4
    # The packed bytes themselves round trip exactly through decode + encode.
    again = make_image(out, encoding)
    assert np.abs(again.data.astype(int) - msg.data.astype(int)).max() <= 1
    # Byte order: on a dark grey frame chroma bytes are 128 and luma bytes are dark; UYVY has luma second.
    grey = make_image(np.full((H, W, 3), 30, np.uint8), encoding).data.reshape(-1, 2).astype(int)
    y_col = 1 if encoding in ("yuv422", "uyvy") else 0
    assert (np.abs(grey[:, 1 - y_col] - 128) <= 1).all() and (grey[:, y_col] < 60).all()


@pytest.mark.parametrize("encoding", ["bayer_rggb8", "bayer_bggr8", "bayer_gbrg8", "bayer_grbg8"])
def test_bayer_pattern_and_roundtrip(encoding: str) -> None:
    red = np.zeros((H, W, 3), np.uint8)
    red[:, :, 2] = 200
    out, enc = image_msg_to_array(make_image(red, encoding, src="bgr8"))
    assert enc == "bgr8"
    inner = out[2:-2, 2:-2].reshape(-1, 3)
    assert (inner[:, 2] == 200).all() and (inner[:, :2] == 0).all(), "demosaiced a red frame into another colour"
    mosaic = RNG.integers(0, 256, (H, W), dtype=np.uint8)
    msg = Image(header=header(), height=H, width=W, encoding=encoding, is_bigendian=0, step=W, data=mosaic.reshape(-1))
    demosaiced, _ = image_msg_to_array(msg)
    # Demosaicing keeps the sampled values, so re-mosaicing gives the original bytes back.
    np.testing.assert_array_equal(make_image(demosaiced, encoding).data, mosaic.reshape(-1))


def test_every_supported_encoding_decodes() -> None:
    for encoding in SUPPORTED_ENCODINGS:
        src = "mono16" if working_encoding(encoding) in ("mono16", "16UC1") else "bgr8"
        arr = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8) if src == "bgr8" else np.zeros((H, W), np.uint16)
        out, _ = image_msg_to_array(make_image(arr, encoding, src=src))
        assert out.shape[:2] == (H, W), encoding


def test_rclpy_style_data_factory_and_buffers() -> None:
    arr = bgr()
    fields = array_to_image_fields(arr, "bgr8", header(), data_factory=lambda a: pyarray.array("B", a.tobytes()))
    assert isinstance(fields["data"], pyarray.array)
    np.testing.assert_array_equal(image_msg_to_array(SimpleNamespace(**fields))[0], arr)
    fields["data"] = bytes(fields["data"])
    np.testing.assert_array_equal(image_msg_to_array(SimpleNamespace(**fields))[0], arr)
    fields["data"] = list(fields["data"])
    np.testing.assert_array_equal(image_msg_to_array(SimpleNamespace(**fields))[0], arr)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"encoding": "32FC1"}, "unsupported image encoding '32FC1'"),
        ({"step": W * 3 - 1}, "step 23 < width 8"),
        ({"data": np.zeros(H * W * 3 - 1, np.uint8)}, "expected step×height = 144"),
        ({"height": 0}, "empty frame"),
        ({"encoding": "yuv422", "width": 7, "step": 14}, "width 7 is odd"),
    ],
)
def test_malformed_messages_raise_frame_error(change: dict, needle: str) -> None:
    fields = array_to_image_fields(bgr(), "bgr8", header())
    fields.update(change)
    with pytest.raises(FrameError, match=needle):
        image_msg_to_array(Image(**fields))


def test_unsupported_output_encoding() -> None:
    with pytest.raises(FrameError, match="unsupported image encoding 'nv12'"):
        array_to_image_fields(bgr(), "nv12", header())


@pytest.mark.parametrize("encoding", ["bgr8", "rgb8"])
def test_compressed_jpeg_both_directions(encoding: str) -> None:
    arr = cv2.GaussianBlur(bgr(), (3, 3), 0)
    arr = cv2.resize(arr, (64, 48), interpolation=cv2.INTER_LINEAR)
    src = arr if encoding == "bgr8" else arr[:, :, ::-1]
    msg = CompressedImage(**array_to_compressed_fields(src, encoding, header(), fmt="jpeg", quality=100))
    assert msg.format == f"{encoding}; jpeg compressed bgr8"
    assert bytes(msg.data[:2]) == b"\xff\xd8"
    out, enc = compressed_msg_to_array(msg)
    assert enc == encoding
    assert np.abs(out.astype(int) - src.astype(int)).mean() < 2.0
    assert msg.header.stamp.nanosec == 456_789


@pytest.mark.parametrize(
    ("arr", "encoding"),
    [
        (RNG.integers(0, 256, (H, W, 3), dtype=np.uint8), "bgr8"),
        (RNG.integers(0, 256, (H, W, 3), dtype=np.uint8), "rgb8"),
        (RNG.integers(0, 256, (H, W), dtype=np.uint8), "mono8"),
        (RNG.integers(0, 65536, (H, W), dtype=np.uint16), "mono16"),
        (RNG.integers(0, 65536, (H, W), dtype=np.uint16), "16UC1"),
    ],
)
def test_compressed_png_roundtrip_exact(arr: np.ndarray, encoding: str) -> None:
    msg = CompressedImage(**array_to_compressed_fields(arr, encoding, header(), fmt="png"))
    out, enc = compressed_msg_to_array(msg)
    assert enc == encoding and out.dtype == arr.dtype
    np.testing.assert_array_equal(out, arr)


def test_compressed_plain_format_and_errors() -> None:
    arr = bgr()
    ok, buf = cv2.imencode(".png", arr)
    assert ok
    np.testing.assert_array_equal(
        compressed_msg_to_array(CompressedImage(header=header(), format="png", data=buf))[0], arr
    )
    with pytest.raises(FrameError, match="compressedDepth"):
        compressed_msg_to_array(CompressedImage(header=header(), format="16UC1; compressedDepth png", data=buf))
    with pytest.raises(FrameError, match="could not be decoded"):
        compressed_msg_to_array(CompressedImage(header=header(), format="jpeg", data=np.arange(50, dtype=np.uint8)))
    with pytest.raises(FrameError, match="data is empty"):
        compressed_msg_to_array(CompressedImage(header=header(), format="jpeg", data=np.zeros(0, np.uint8)))
    with pytest.raises(FrameError, match="jpeg cannot hold 16-bit"):
        array_to_compressed_fields(np.zeros((H, W), np.uint16), "mono16", header())


def test_serialises_with_rosbags() -> None:
    # The fields make a message that the real CDR serializer accepts and restores unchanged.
    msg = make_image(bgr(), "bgr8")
    raw = STORE.serialize_cdr(msg, "sensor_msgs/msg/Image")
    back = STORE.deserialize_cdr(raw, "sensor_msgs/msg/Image")
    np.testing.assert_array_equal(image_msg_to_array(back)[0], image_msg_to_array(msg)[0])


@pytest.mark.parametrize("uyvy", [True, False])
def test_numpy_yuv422_packer_matches_opencv(uyvy: bool) -> None:
    # OpenCV < 4.8 (Ubuntu 22.04 / Humble) has no BGR -> 4:2:2 conversion; the numpy packer stands in.
    from llie_core.imgmsg import pack_yuv422

    arr = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
    code = getattr(cv2, "COLOR_BGR2YUV_UYVY" if uyvy else "COLOR_BGR2YUV_YUY2", None)
    if code is None:
        pytest.skip("this OpenCV has no BGR -> YUV422 conversion to compare with")
    ours, theirs = pack_yuv422(arr, uyvy).astype(int), cv2.cvtColor(arr, code).astype(int)
    assert ours.shape == theirs.shape and np.abs(ours - theirs).max() <= 2
    # And it decodes back through OpenCV's 4:2:2 decoder (pixel pairs of one colour survive subsampling).
    pairs = np.repeat(arr[:, ::2], 2, axis=1)
    decoded = cv2.cvtColor(pack_yuv422(pairs, uyvy), cv2.COLOR_YUV2BGR_UYVY if uyvy else cv2.COLOR_YUV2BGR_YUY2)
    assert np.abs(decoded.astype(int) - pairs.astype(int)).max() <= 4


def test_yuv422_encode_without_opencv_support(monkeypatch: pytest.MonkeyPatch) -> None:
    import llie_core.imgmsg as imgmsg

    arr = np.repeat(RNG.integers(30, 220, (H, W // 2, 3), dtype=np.uint8), 2, axis=1)
    native = {enc: make_image(arr, enc, src="bgr8").data.astype(int) for enc in ("yuv422", "yuv422_yuy2")}
    monkeypatch.setattr(imgmsg, "_YUV_ENCODE", dict.fromkeys(imgmsg._YUV_ENCODE))
    for enc, data in native.items():
        fallback = make_image(arr, enc, src="bgr8")
        assert np.abs(fallback.data.astype(int) - data).max() <= 1
        assert np.abs(image_msg_to_array(fallback)[0].astype(int) - arr.astype(int)).max() <= 4
