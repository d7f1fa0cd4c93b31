"""Parameters of the llie nodes: one table the nodes declare (with descriptors) and validate changes against.

ROS-free, so the offline tools (`llie bag enhance`, `bag eval`, `enhance`) read the same definitions and parameter
files (llie_core.params_file) as the nodes.
"""

from __future__ import annotations

import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from llie_core.imgmsg import SUPPORTED_ENCODINGS
from llie_core.registry import DEFAULT_MODEL


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: default (its type is the parameter's type), description, range or choices."""

    name: str
    default: Any
    description: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    read_only: bool = False

    @property
    def constraints(self) -> str:
        """Human-readable constraints for the descriptor and the docs."""
        if self.choices is not None:
            return "one of: " + ", ".join(repr(c) for c in self.choices)
        if self.min is not None and self.max is not None:
            return f"range [{self.min}, {self.max}]"
        return ""


QOS_RELIABILITY = ("reliable", "best_effort")
BACKENDS = ("auto", "onnxruntime", "torch", "numpy")
OUTPUT_ENCODINGS = ("", *SUPPORTED_ENCODINGS)

QOS_PARAMS = (
    ParamSpec("qos_depth", 5, "queue depth of subscriptions and publications", 1, 100, read_only=True),
    ParamSpec(
        "qos_reliability",
        "reliable",
        "reliability of publications (subscriptions are always best-effort sensor-data QoS, which matches "
        "both reliable and best-effort publishers)",
        choices=QOS_RELIABILITY,
        read_only=True,
    ),
)

ENHANCER_PARAMS = (
    ParamSpec("model", DEFAULT_MODEL, "enhancement method from the llie registry (changeable at runtime)"),
    ParamSpec("weights", "", "weights file; empty: the shipped default, 'reference': ../shared reference checkpoint"),
    ParamSpec("backend", "auto", "inference backend", choices=BACKENDS),
    ParamSpec("device", "cpu", "device for the torch/onnxruntime backends: cpu, cuda, cuda:0, ..."),
    ParamSpec("scale_factor", 0, "networks: downscale factor for estimation; 0: the weights' default", 0, 64),
    ParamSpec(
        "amplification",
        0.0,
        "RAW models (llpacknet): digital gain of the black-subtracted mosaic, e.g. a known exposure ratio; "
        "0: metered on each frame",
        0.0,
        1000.0,
    ),
    ParamSpec(
        "raw_black_level",
        0,
        "Bayer topics (bayer_*8, bayer_*16): the sensor's black level in codes (sensor_msgs/Image does not carry it)",
        0,
        65535,
    ),
    ParamSpec(
        "raw_white_level",
        0,
        "Bayer topics: the sensor's white level (full scale) in codes; 0: the encoding's, 255 for bayer_*8 and "
        "65535 for bayer_*16",
        0,
        65535,
    ),
    ParamSpec("enabled", True, "false: bypass, frames are republished unchanged"),
    ParamSpec("auto_gate", True, "skip enhancement on frames whose mean luminance is above gate_threshold"),
    ParamSpec("gate_threshold", 0.4, "mean luminance in [0, 1] at and above which a frame is not enhanced", 0.0, 1.0),
    ParamSpec("gate_hysteresis", 0.05, "luminance margin below the threshold before enhancement resumes", 0.0, 0.5),
    ParamSpec(
        "smoothing",
        0.6,
        "temporal smoothing of curves (or gain) between frames: weight of the past, 0 = off",
        0.0,
        0.99,
    ),
    ParamSpec(
        "output_encoding",
        "",
        "encoding of enhanced/image_raw; empty: the input's colour encoding",
        choices=OUTPUT_ENCODINGS,
    ),
    ParamSpec("publish_compressed", False, "also publish enhanced/image_raw/compressed (jpeg)"),
    ParamSpec("jpeg_quality", 85, "jpeg quality of the compressed output", 1, 100),
    ParamSpec(
        "image_transport",
        "raw",
        "input transport: raw (image_raw) or compressed (image_raw/compressed)",
        choices=("raw", "compressed"),
        read_only=True,
    ),
)

DETECTOR_PARAMS = (
    ParamSpec("model", "", "local YOLO model file ultralytics loads (.pt, .onnx, .engine); nothing is downloaded"),
    ParamSpec("conf", 0.25, "minimum detection confidence", 0.0, 1.0),
    ParamSpec("iou", 0.45, "IoU threshold of non-maximum suppression", 0.0, 1.0),
    ParamSpec("imgsz", 640, "inference size in pixels", 32, 4096),
    ParamSpec("classes", [-1], "class ids to keep; [-1]: all classes"),
    ParamSpec("device", "cpu", "ultralytics device: cpu, cuda:0, 0, ..."),
    ParamSpec("half", False, "FP16 inference (GPU only)"),
    ParamSpec(
        "input_transport", "raw", "input transport: raw or compressed", choices=("raw", "compressed"), read_only=True
    ),
)

# Parameters whose change requires building a new enhancer / detector.
ENHANCER_BUILD_KEYS = ("model", "weights", "backend", "device", "scale_factor", "amplification")
DETECTOR_BUILD_KEYS = ("model", "conf", "iou", "imgsz", "classes", "device", "half")

DETECTOR_PREFIX = "detector."


def pipeline_params() -> tuple[ParamSpec, ...]:
    """The pipeline node's parameters: the enhancer's plus the detector's under ``detector.``."""
    det = tuple(
        ParamSpec(DETECTOR_PREFIX + p.name, p.default, p.description, p.min, p.max, p.choices, p.read_only)
        for p in DETECTOR_PARAMS
        if p.name != "input_transport"  # the pipeline's transport is image_transport
    )
    return ENHANCER_PARAMS + det + QOS_PARAMS


def normalize_value(value: Any) -> Any:
    """A parameter value as plain Python: rclpy hands integer arrays over as array.array."""
    if isinstance(value, (tuple, array.array)):
        return list(value)
    return value


def validate(spec: ParamSpec, value: Any) -> tuple[bool, str]:
    """Check a new value against its spec: (True, "") or (False, reason)."""
    default = spec.default
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, list):
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    else:
        ok = True
    if not ok:
        return False, f"{spec.name}: expected {type(default).__name__}, got {type(value).__name__} {value!r}"
    if spec.choices is not None and value not in spec.choices:
        return False, f"{spec.name}: {value!r} is not {spec.constraints}"
    if spec.min is not None and spec.max is not None and not isinstance(value, (str, list, tuple)):
        if not spec.min <= value <= spec.max:
            return False, f"{spec.name}: {value!r} is outside {spec.constraints}"
    return True, ""


def validate_changes(specs: Iterable[ParamSpec], changes: Mapping[str, Any]) -> tuple[bool, str]:
    """Validate several new values; the first failure's reason, or (True, "")."""
    by_name = {s.name: s for s in specs}
    for name, value in changes.items():
        value = normalize_value(value)
        spec = by_name.get(name)
        if spec is None:
            return False, f"unknown parameter {name!r}"
        if spec.read_only:
            return False, f"{name} is read-only (set it at launch)"
        ok, reason = validate(spec, value)
        if not ok:
            return False, reason
    return True, ""


def check_gate(values: Mapping[str, Any]) -> tuple[bool, str]:
    """Cross-parameter rule: the hysteresis cannot exceed the threshold."""
    if values.get("gate_hysteresis", 0.0) > values.get("gate_threshold", 1.0):
        return False, (
            f"gate_hysteresis {values['gate_hysteresis']} must not exceed gate_threshold {values['gate_threshold']}"
        )
    return True, ""


def check_raw_levels(values: Mapping[str, Any]) -> tuple[bool, str]:
    """Cross-parameter rule: a set white level lies above the black level."""
    black, white = values.get("raw_black_level", 0), values.get("raw_white_level", 0)
    if white and black >= white:
        return False, f"raw_black_level {black} must be below raw_white_level {white} (0: the encoding's full scale)"
    return True, ""


def check_enhancer_values(values: Mapping[str, Any]) -> tuple[bool, str]:
    """The enhancer's cross-parameter rules: ``check_gate`` and ``check_raw_levels``."""
    ok, reason = check_gate(values)
    return check_raw_levels(values) if ok else (ok, reason)


def classes_value(value: list[int]) -> list[int] | None:
    """The detector's class filter: None for all classes ([-1] or empty)."""
    kept = [int(v) for v in value if int(v) >= 0]
    return kept or None


def strip_prefix(values: Mapping[str, Any], prefix: str = DETECTOR_PREFIX) -> dict[str, Any]:
    """The entries of ``values`` under ``prefix``, with the prefix removed."""
    return {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}
