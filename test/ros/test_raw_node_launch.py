"""launch_testing: the enhancer node, model llpacknet_fast (the Bayer default), on a bayer_rggb16 topic (colcon test).

A dark 14-bit RGGB mosaic (black 512, white 16383: the node's raw_black_level/raw_white_level) published as
bayer_rggb16 must come back on enhanced/image_raw as rgb8 of the same size, with the input header, equal (±1 code)
to what llie_core's RawEnhancer makes of the same mosaic at those levels, and brighter than the dark frame's
demosaic. Skips cleanly where rclpy / launch_testing / the built package / the shipped weights are absent.
"""

from __future__ import annotations

import array
import time
import unittest

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy", reason="needs ROS 2 (rclpy)")
pytest.importorskip("launch_testing", reason="needs ROS 2 launch_testing")

import launch_testing.actions  # noqa: E402
from launch import LaunchDescription  # noqa: E402
from launch_ros.actions import Node  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from llie_core.bayer import RawFrame  # noqa: E402
from llie_core.registry import get_spec  # noqa: E402

try:  # the nodes must come from a built workspace (colcon build; source install/setup.bash)
    from ament_index_python.packages import get_package_prefix

    get_package_prefix("llie")
except (ImportError, LookupError) as exc:
    pytest.skip(f"package llie is not built in this ROS environment: {exc}", allow_module_level=True)
if not get_spec("llpacknet_fast").default_weights(".onnx").is_file():
    pytest.skip("no shipped llpacknet_fast.onnx in llie_core/weights", allow_module_level=True)

NS = "/llie_raw_test"
BLACK, WHITE = 512, 16383


@pytest.mark.launch_test
def generate_test_description():
    """The enhancer running the shipped llpacknet_fast, amplification metered, no smoothing or gating, rgb8 out."""
    node = Node(
        package="llie",
        executable="enhancer",
        name="enhancer",
        namespace=NS,
        output="screen",
        parameters=[
            {
                "model": "llpacknet_fast",
                "smoothing": 0.0,
                "auto_gate": False,
                "raw_black_level": BLACK,
                "raw_white_level": WHITE,
                "output_encoding": "rgb8",  # Bayer inputs are published as bgr8 unless told
            }
        ],
    )
    return LaunchDescription([node, launch_testing.actions.ReadyToTest()]), {}


def dark_mosaic(height: int = 48, width: int = 64) -> np.ndarray:
    """A dark RGGB mosaic: a smooth colour scene at ~2% of full scale above black, with shot-like noise."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:height, 0:width]
    scene = np.stack([0.3 + 0.2 * np.sin(xx / 9.0), 0.4 + 0.2 * np.cos(yy / 7.0), 0.25 + 0.1 * (xx + yy) / 112.0], -1)
    rgb = scene * 0.02 * (WHITE - BLACK)
    codes = np.empty((height, width))
    for dy, dx, c in ((0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 2)):
        codes[dy::2, dx::2] = rgb[dy::2, dx::2, c]
    return (BLACK + rng.poisson(codes * 4) / 4).round().astype(np.uint16)


class TestRawEnhancerNode(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        rclpy.init()
        cls.node = rclpy.create_node("llie_raw_test_probe")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.node.destroy_node()
        rclpy.shutdown()

    def test_bayer_rggb16_in_rgb8_out(self) -> None:
        mosaic = dark_mosaic()
        images: list = []
        pub = self.node.create_publisher(Image, f"{NS}/image_raw", 10)
        sub = self.node.create_subscription(Image, f"{NS}/enhanced/image_raw", images.append, 10)
        msg = Image(height=48, width=64, encoding="bayer_rggb16", is_bigendian=0, step=128)
        msg.data = array.array("B", mosaic.astype("<u2").tobytes())
        msg.header.frame_id = "llie_raw_test_optical"
        deadline = time.monotonic() + 120.0  # the node builds the model while the first frames arrive
        sec = 0
        while not images and time.monotonic() < deadline:
            sec += 1
            msg.header.stamp.sec = sec
            pub.publish(msg)
            end = time.monotonic() + 0.3
            while time.monotonic() < end and not images:
                rclpy.spin_once(self.node, timeout_sec=0.05)
        self.node.destroy_subscription(sub)
        self.node.destroy_publisher(pub)
        self.assertTrue(images, "no enhanced image within 120 s")
        out = images[0]
        self.assertEqual((out.encoding, out.width, out.height), ("rgb8", 64, 48))
        self.assertEqual(out.header.frame_id, "llie_raw_test_optical")
        rows = np.frombuffer(bytes(out.data), np.uint8).reshape(48, out.step)
        rgb = rows[:, : 64 * 3].reshape(48, 64, 3)
        from llie_core import create_enhancer

        raw = RawFrame(mosaic, "RGGB", BLACK, WHITE)
        expected = create_enhancer("llpacknet_fast", backend="onnxruntime", threads=1).enhance(raw, rgb=True)
        self.assertLessEqual(int(np.abs(rgb.astype(int) - expected).max()), 1)
        self.assertGreater(rgb.mean(), raw.to_bgr8().mean() + 30)
