"""rclpy node `enhancer`: image_raw (or image_raw/compressed) -> enhanced/image_raw, camera_info passthrough, stats.

The per-camera work is llie_core.stream.StreamProcessor's, the message plumbing llie_ros.processing.EnhancerCore's;
this module only wires ROS to them.
"""

from __future__ import annotations

from typing import Any

from llie.msg import EnhancementStats
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from llie_core.params import ENHANCER_BUILD_KEYS, ENHANCER_PARAMS, QOS_PARAMS, check_enhancer_values
from llie_core.stream import StreamProcessor, StreamSettings
from llie_ros.processing import EnhancerCore, ModelHolder, Publishers, check_enhancer, enhancer_factory
from llie_ros.ros_common import LlieNode, StartupError, rclpy_types, resolved, spin

SPECS = ENHANCER_PARAMS + QOS_PARAMS


def enhanced_outputs(node: LlieNode) -> Publishers:
    """Create the enhanced camera's publishers (image, jpeg, camera_info passthrough, ~/stats) on ``node``."""
    image = node.create_publisher(Image, "enhanced/image_raw", node.pub_qos)
    compressed = node.create_publisher(CompressedImage, "enhanced/image_raw/compressed", node.pub_qos)
    info = node.create_publisher(CameraInfo, "enhanced/camera_info", node.pub_qos)
    stats = node.create_publisher(EnhancementStats, "~/stats", node.pub_qos)
    return Publishers(
        image=image.publish,
        compressed=compressed.publish,
        # camera_info is republished unchanged (same header) so enhanced/ is a complete camera namespace.
        camera_info=info.publish,
        stats=stats.publish,
        compressed_wanted=lambda: compressed.get_subscription_count() > 0,
    )


class EnhancerNode(LlieNode):
    """Enhances a camera stream; parameters (model included) change at runtime."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("enhancer", SPECS, **kwargs)
        ok, reason = check_enhancer_values(self.values)
        if not ok:
            raise StartupError(reason)
        self.holder = ModelHolder(enhancer_factory, ENHANCER_BUILD_KEYS, check_enhancer)
        ok, reason = self.holder.load(self.values)
        if not ok:
            raise StartupError(reason)
        self.processor = StreamProcessor(self.holder, StreamSettings.from_params(self.values))
        self.core = EnhancerCore(
            self.processor,
            rclpy_types(with_stats=True),
            enhanced_outputs(self),
            **self.core_hooks(),
        ).start()
        source = self.subscribe_frames("image_raw", self.values["image_transport"] == "compressed")
        self.diagnostics = self.start_diagnostics("llie enhancer", self._diag_extra)
        # A model change is checked at once and built in the background; the running model serves until it is warm.
        self.watch_parameters(
            (self.holder,),
            check_enhancer_values,
            lambda merged: self.processor.configure(StreamSettings.from_params(merged)),
        )
        enh = self.holder.current
        self.announce_ready(
            f"enhancing {resolved(self, source)} -> {resolved(self, 'enhanced/image_raw')} "
            f"with {getattr(enh, 'name', '?')} on {getattr(enh, 'backend', '?')}"
        )

    def _diag_extra(self) -> dict[str, str]:
        enh = self.holder.current
        return {"model": str(getattr(enh, "name", "")), "backend": str(getattr(enh, "backend", ""))}


def main(args: list[str] | None = None) -> None:
    """Entry point of the `enhancer` executable."""
    spin(EnhancerNode, args)


if __name__ == "__main__":
    main()
