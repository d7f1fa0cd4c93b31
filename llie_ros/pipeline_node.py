"""rclpy node `pipeline`: enhancement and YOLO in one process on one decoded frame, for the lowest latency.

Topics are the enhancer's (image_raw in; enhanced/image_raw, enhanced/camera_info, ~/stats out) plus the
detector's (detections, ~/annotated). Detector parameters live under `detector.` (detector.model, ...).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from llie_core.params import (
    DETECTOR_BUILD_KEYS,
    DETECTOR_PREFIX,
    ENHANCER_BUILD_KEYS,
    check_enhancer_values,
    pipeline_params,
    strip_prefix,
)
from llie_core.stream import StreamProcessor, StreamSettings
from llie_ros.detector_node import detection_outputs
from llie_ros.enhancer_node import enhanced_outputs
from llie_ros.processing import (
    ModelHolder,
    PipelineCore,
    check_detector,
    check_enhancer,
    detector_factory,
    enhancer_factory,
)
from llie_ros.ros_common import LlieNode, StartupError, rclpy_types, resolved, spin

SPECS = pipeline_params()


class PipelineNode(LlieNode):
    """Enhancer + detector in one node."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("pipeline", SPECS, **kwargs)
        self.holder = ModelHolder(enhancer_factory, ENHANCER_BUILD_KEYS, check_enhancer)
        self.det_holder = ModelHolder(
            lambda p: detector_factory(strip_prefix(p)),
            tuple(DETECTOR_PREFIX + k for k in DETECTOR_BUILD_KEYS),
            lambda p: check_detector(strip_prefix(p)),
        )
        ok, reason = check_enhancer_values(self.values)
        for holder in (self.holder, self.det_holder):
            if ok:
                ok, reason = holder.load(self.values)
        if not ok:
            raise StartupError(reason)
        self.processor = StreamProcessor(self.holder, StreamSettings.from_params(self.values))
        detections = detection_outputs(self)
        publishers = dataclasses.replace(
            enhanced_outputs(self),
            detections=detections.detections,
            annotated=detections.annotated,
            annotated_wanted=detections.annotated_wanted,
        )
        self.core = PipelineCore(
            self.processor,
            self.det_holder,
            rclpy_types(with_stats=True),
            publishers,
            **self.core_hooks(),
        ).start()
        self.subscribe_frames("image_raw", self.values["image_transport"] == "compressed")
        self.diagnostics = self.start_diagnostics("llie pipeline", self._diag_extra)
        # Everything that changed is built (in the background) before anything is swapped: all or nothing.
        self.watch_parameters(
            (self.holder, self.det_holder),
            check_enhancer_values,
            lambda merged: self.processor.configure(StreamSettings.from_params(merged)),
        )
        self.announce_ready(
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


def main(args: list[str] | None = None) -> None:
    """Entry point of the `pipeline` executable."""
    spin(PipelineNode, args)


if __name__ == "__main__":
    main()
