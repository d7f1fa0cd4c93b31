"""rclpy node `detector`: image -> detections (vision_msgs/Detection2DArray) and ~/annotated while watched.

Subscribes `image` (remap it to the enhanced topic; the launch files do); all work is in processing.DetectorCore.
"""

from __future__ import annotations

from typing import Any

from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

from llie_core.params import DETECTOR_BUILD_KEYS, DETECTOR_PARAMS, QOS_PARAMS
from llie_ros.processing import DetectorCore, ModelHolder, Publishers, check_detector, detector_factory
from llie_ros.ros_common import LlieNode, StartupError, rclpy_types, resolved, spin

SPECS = DETECTOR_PARAMS + QOS_PARAMS


def detection_outputs(node: LlieNode) -> Publishers:
    """Create the detections and ~/annotated publishers on ``node`` (annotated frames only while watched)."""
    detections = node.create_publisher(Detection2DArray, "detections", node.pub_qos)
    annotated = node.create_publisher(Image, "~/annotated", node.pub_qos)
    return Publishers(
        detections=detections.publish,
        annotated=annotated.publish,
        annotated_wanted=lambda: annotated.get_subscription_count() > 0,
    )


class DetectorNode(LlieNode):
    """YOLO on an image topic; the model file and thresholds change at runtime."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("detector", SPECS, **kwargs)
        self.holder = ModelHolder(detector_factory, DETECTOR_BUILD_KEYS, check_detector)
        ok, reason = self.holder.load(self.values)
        if not ok:
            raise StartupError(reason)
        self.core = DetectorCore(self.holder, rclpy_types(), detection_outputs(self), **self.core_hooks()).start()
        source = self.subscribe_frames("image", self.values["input_transport"] == "compressed")
        self.diagnostics = self.start_diagnostics(
            "llie detector", lambda: {"model": str(self.holder.params.get("model", ""))}
        )
        self.watch_parameters((self.holder,))  # a new model builds in the background; a bad one is rejected
        self.announce_ready(
            f"detecting on {resolved(self, source)} with {self.values['model']} -> {resolved(self, 'detections')}"
        )


def main(args: list[str] | None = None) -> None:
    """Entry point of the `detector` executable."""
    spin(DetectorNode, args)


if __name__ == "__main__":
    main()
