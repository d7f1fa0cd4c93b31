"""rclpy node `enhancer`: image_raw (or image_raw/compressed) -> enhanced/image_raw, camera_info passthrough, stats.

All the work happens in llie_ros.processing.EnhancerCore; this module only wires ROS to it.
"""

from __future__ import annotations

from typing import Any

from llie.msg import EnhancementStats
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from llie_ros.params import (
    ENHANCER_BUILD_KEYS,
    ENHANCER_PARAMS,
    QOS_PARAMS,
    check_gate,
    normalize_value,
    validate_changes,
)
from llie_ros.processing import (
    EnhanceProcessor,
    EnhancerCore,
    EnhanceSettings,
    ModelHolder,
    Publishers,
    enhancer_factory,
)
from llie_ros.ros_common import (
    StartupError,
    add_diagnostics,
    declare,
    publication_qos,
    rclpy_types,
    resolved,
    set_result,
    spin,
    subscription_qos,
)

SPECS = ENHANCER_PARAMS + QOS_PARAMS
SPEC_NAMES = frozenset(s.name for s in SPECS)


class EnhancerNode(Node):
    """Enhances a camera stream; parameters (model included) change at runtime."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("enhancer", **kwargs)
        self.values = declare(self, SPECS)
        ok, reason = check_gate(self.values)
        if not ok:
            raise StartupError(reason)
        self.holder = ModelHolder(enhancer_factory, ENHANCER_BUILD_KEYS)
        ok, reason = self.holder.load(self.values)
        if not ok:
            raise StartupError(reason)
        self.processor = EnhanceProcessor(self.holder, EnhanceSettings.from_params(self.values))

        depth, reliability = int(self.values["qos_depth"]), str(self.values["qos_reliability"])
        pub_qos, sub_qos = publication_qos(depth, reliability), subscription_qos(depth)
        self.image_pub = self.create_publisher(Image, "enhanced/image_raw", pub_qos)
        self.compressed_pub = self.create_publisher(CompressedImage, "enhanced/image_raw/compressed", pub_qos)
        self.info_pub = self.create_publisher(CameraInfo, "enhanced/camera_info", pub_qos)
        self.stats_pub = self.create_publisher(EnhancementStats, "~/stats", pub_qos)

        self.core = EnhancerCore(
            self.processor,
            rclpy_types(with_stats=True),
            Publishers(
                image=self.image_pub.publish,
                compressed=self.compressed_pub.publish,
                stats=self.stats_pub.publish,
                compressed_wanted=lambda: self.compressed_pub.get_subscription_count() > 0,
            ),
            log_warning=self.get_logger().warning,
        ).start()

        if self.values["image_transport"] == "compressed":
            self.create_subscription(CompressedImage, "image_raw/compressed", self.core.offer, sub_qos)
            source = "image_raw/compressed"
        else:
            self.create_subscription(Image, "image_raw", self.core.offer, sub_qos)
            source = "image_raw"
        # camera_info is republished unchanged (same header) so enhanced/ is a complete camera namespace.
        self.create_subscription(CameraInfo, "camera_info", self.info_pub.publish, sub_qos)

        self.diagnostics = add_diagnostics(self, "llie enhancer", self.core.stats, self._diag_extra)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        enh = self.holder.current
        self.get_logger().info(
            f"enhancing {resolved(self, source)} -> {resolved(self, 'enhanced/image_raw')} "
            f"with {getattr(enh, 'name', '?')} on {getattr(enh, 'backend', '?')}"
        )

    def _diag_extra(self) -> dict[str, str]:
        enh = self.holder.current
        return {"model": str(getattr(enh, "name", "")), "backend": str(getattr(enh, "backend", ""))}

    def _on_set_parameters(self, params: list[Parameter]) -> Any:
        # Validate everything first; a model change builds the new model here, so a bad one is rejected
        # with its reason while the running model keeps going.
        # Only our parameters: use_sim_time, diagnostic_updater.period, qos_overrides... are rclpy's business.
        changes = {p.name: normalize_value(p.value) for p in params if p.name in SPEC_NAMES}
        if not changes:
            return set_result(True, "")
        ok, reason = validate_changes(SPECS, changes)
        merged = {**self.values, **changes}
        if ok:
            ok, reason = check_gate(merged)
        if ok and self.holder.needs_reload(merged):
            ok, reason = self.holder.load(merged)
            if ok:
                self.get_logger().info(f"model now {merged['model']} ({getattr(self.holder.current, 'backend', '?')})")
        if ok:
            self.values = merged
            self.processor.configure(EnhanceSettings.from_params(merged))
        else:
            self.get_logger().warning(f"parameter change rejected: {reason}")
        return set_result(ok, reason)

    def shutdown(self) -> None:
        """Stop the worker thread before the node goes away."""
        self.core.stop()


def main(args: list[str] | None = None) -> None:
    """Entry point of the `enhancer` executable."""
    spin(EnhancerNode, args)


if __name__ == "__main__":
    main()
