"""rclpy node `pipeline`: enhancement and YOLO in one process on one decoded frame, for the lowest latency.

Topics are the enhancer's (image_raw in; enhanced/image_raw, enhanced/camera_info, ~/stats out) plus the
detector's (detections, ~/annotated). Detector parameters live under `detector.` (detector.model, ...).
"""

from __future__ import annotations

from typing import Any

from llie.msg import EnhancementStats
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from vision_msgs.msg import Detection2DArray

from llie_ros.params import (
    DETECTOR_BUILD_KEYS,
    DETECTOR_PREFIX,
    ENHANCER_BUILD_KEYS,
    check_gate,
    normalize_value,
    pipeline_params,
    strip_prefix,
    validate_changes,
)
from llie_ros.processing import (
    EnhanceProcessor,
    EnhanceSettings,
    ModelHolder,
    PipelineCore,
    Publishers,
    detector_factory,
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

SPECS = pipeline_params()
SPEC_NAMES = frozenset(s.name for s in SPECS)


class PipelineNode(Node):
    """Enhancer + detector in one node."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("pipeline", **kwargs)
        self.values = declare(self, SPECS)
        self.holder = ModelHolder(enhancer_factory, ENHANCER_BUILD_KEYS)
        self.det_holder = ModelHolder(
            lambda p: detector_factory(strip_prefix(p)), tuple(DETECTOR_PREFIX + k for k in DETECTOR_BUILD_KEYS)
        )
        ok, reason = check_gate(self.values)
        for holder in (self.holder, self.det_holder):
            if ok:
                ok, reason = holder.load(self.values)
        if not ok:
            raise StartupError(reason)
        self.processor = EnhanceProcessor(self.holder, EnhanceSettings.from_params(self.values))

        depth, reliability = int(self.values["qos_depth"]), str(self.values["qos_reliability"])
        pub_qos, sub_qos = publication_qos(depth, reliability), subscription_qos(depth)
        self.image_pub = self.create_publisher(Image, "enhanced/image_raw", pub_qos)
        self.compressed_pub = self.create_publisher(CompressedImage, "enhanced/image_raw/compressed", pub_qos)
        self.info_pub = self.create_publisher(CameraInfo, "enhanced/camera_info", pub_qos)
        self.stats_pub = self.create_publisher(EnhancementStats, "~/stats", pub_qos)
        self.det_pub = self.create_publisher(Detection2DArray, "detections", pub_qos)
        self.ann_pub = self.create_publisher(Image, "~/annotated", pub_qos)
        self.core = PipelineCore(
            self.processor,
            self.det_holder,
            rclpy_types(with_stats=True),
            Publishers(
                image=self.image_pub.publish,
                compressed=self.compressed_pub.publish,
                stats=self.stats_pub.publish,
                detections=self.det_pub.publish,
                annotated=self.ann_pub.publish,
                compressed_wanted=lambda: self.compressed_pub.get_subscription_count() > 0,
                annotated_wanted=lambda: self.ann_pub.get_subscription_count() > 0,
            ),
            log_warning=self.get_logger().warning,
        ).start()
        if self.values["image_transport"] == "compressed":
            self.create_subscription(CompressedImage, "image_raw/compressed", self.core.offer, sub_qos)
        else:
            self.create_subscription(Image, "image_raw", self.core.offer, sub_qos)
        self.create_subscription(CameraInfo, "camera_info", self.info_pub.publish, sub_qos)
        self.diagnostics = add_diagnostics(self, "llie pipeline", self.core.stats, self._diag_extra)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.get_logger().info(
            f"pipeline on {resolved(self, 'image_raw')}: {self.values['model']} + "
            f"{self.values[DETECTOR_PREFIX + 'model']}"
        )

    def _diag_extra(self) -> dict[str, str]:
        enh = self.holder.current
        return {
            "model": str(getattr(enh, "name", "")),
            "backend": str(getattr(enh, "backend", "")),
            "detector model": str(self.det_holder.params.get(DETECTOR_PREFIX + "model", "")),
        }

    def _on_set_parameters(self, params: list[Parameter]) -> Any:
        # Only our parameters: use_sim_time, diagnostic_updater.period, qos_overrides... are rclpy's business.
        changes = {p.name: normalize_value(p.value) for p in params if p.name in SPEC_NAMES}
        if not changes:
            return set_result(True, "")
        ok, reason = validate_changes(SPECS, changes)
        merged = {**self.values, **changes}
        if ok:
            ok, reason = check_gate(merged)
        # Build everything that changed before swapping anything: all or nothing.
        pending = []
        for holder in (self.holder, self.det_holder):
            if ok and holder.needs_reload(merged):
                ok, reason, model = holder.prepare(merged)
                pending.append((holder, model))
        if ok:
            for holder, model in pending:
                holder.commit(model)
            self.values = merged
            self.processor.configure(EnhanceSettings.from_params(merged))
        else:
            self.get_logger().warning(f"parameter change rejected: {reason}")
        return set_result(ok, reason)

    def shutdown(self) -> None:
        """Stop the worker thread before the node goes away."""
        self.core.stop()


def main(args: list[str] | None = None) -> None:
    """Entry point of the `pipeline` executable."""
    spin(PipelineNode, args)


if __name__ == "__main__":
    main()
