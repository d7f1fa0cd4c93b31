"""rclpy node `detector`: image -> detections (vision_msgs/Detection2DArray) and ~/annotated while watched.

Subscribes `image` (remap it to the enhanced topic; the launch files do); all work is in processing.DetectorCore.
"""

from __future__ import annotations

from typing import Any

from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import CompressedImage, Image
from vision_msgs.msg import Detection2DArray

from llie_ros.params import DETECTOR_BUILD_KEYS, DETECTOR_PARAMS, QOS_PARAMS, normalize_value, validate_changes
from llie_ros.processing import DetectorCore, ModelHolder, Publishers, detector_factory
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

SPECS = DETECTOR_PARAMS + QOS_PARAMS
SPEC_NAMES = frozenset(s.name for s in SPECS)


class DetectorNode(Node):
    """YOLO on an image topic; the model file and thresholds change at runtime."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("detector", **kwargs)
        self.values = declare(self, SPECS)
        self.holder = ModelHolder(detector_factory, DETECTOR_BUILD_KEYS)
        ok, reason = self.holder.load(self.values)
        if not ok:
            raise StartupError(reason)

        depth, reliability = int(self.values["qos_depth"]), str(self.values["qos_reliability"])
        pub_qos, sub_qos = publication_qos(depth, reliability), subscription_qos(depth)
        self.det_pub = self.create_publisher(Detection2DArray, "detections", pub_qos)
        self.ann_pub = self.create_publisher(Image, "~/annotated", pub_qos)
        self.core = DetectorCore(
            self.holder,
            rclpy_types(),
            Publishers(
                detections=self.det_pub.publish,
                annotated=self.ann_pub.publish,
                annotated_wanted=lambda: self.ann_pub.get_subscription_count() > 0,
            ),
            log_warning=self.get_logger().warning,
        ).start()
        if self.values["input_transport"] == "compressed":
            self.create_subscription(CompressedImage, "image/compressed", self.core.offer, sub_qos)
            source = "image/compressed"
        else:
            self.create_subscription(Image, "image", self.core.offer, sub_qos)
            source = "image"
        self.diagnostics = add_diagnostics(
            self, "llie detector", self.core.stats, lambda: {"model": str(self.holder.params.get("model", ""))}
        )
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.get_logger().info(
            f"detecting on {resolved(self, source)} with {self.values['model']} -> {resolved(self, 'detections')}"
        )

    def _on_set_parameters(self, params: list[Parameter]) -> Any:
        # Only our parameters: use_sim_time, diagnostic_updater.period, qos_overrides... are rclpy's business.
        changes = {p.name: normalize_value(p.value) for p in params if p.name in SPEC_NAMES}
        if not changes:
            return set_result(True, "")
        ok, reason = validate_changes(SPECS, changes)
        merged = {**self.values, **changes}
        if ok and self.holder.needs_reload(merged):
            ok, reason = self.holder.load(merged)  # a bad model file is rejected; the old model keeps running
        if ok:
            self.values = merged
        else:
            self.get_logger().warning(f"parameter change rejected: {reason}")
        return set_result(ok, reason)

    def shutdown(self) -> None:
        """Stop the worker thread before the node goes away."""
        self.core.stop()


def main(args: list[str] | None = None) -> None:
    """Entry point of the `detector` executable."""
    spin(DetectorNode, args)


if __name__ == "__main__":
    main()
