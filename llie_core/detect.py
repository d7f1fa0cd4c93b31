"""YOLO detection through ultralytics (imported lazily), drawing with OpenCV, and Detection2DArray fields."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

__all__ = ["Detection", "Detector", "class_colour", "detection2d_array_fields", "prepare_ultralytics_env"]


@dataclass(frozen=True)
class Detection:
    """One detected object: class, score and box corners in pixels of the input image."""

    class_id: int
    class_name: str
    score: float
    x1: float
    y1: float
    x2: float
    y2: float


def prepare_ultralytics_env() -> Path:
    """Keep ultralytics offline and its settings in a writable folder; call before importing it."""
    os.environ.setdefault("YOLO_OFFLINE", "1")  # no hub checks, no font or asset downloads
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")  # never pip install at run time
    config = Path(os.environ.setdefault("YOLO_CONFIG_DIR", str(Path(tempfile.gettempdir()) / "llie_ultralytics")))
    config.mkdir(parents=True, exist_ok=True)
    return config


class Detector:
    """Ultralytics YOLO from a local model file (.pt, .onnx, .engine, ... anything YOLO() loads)."""

    def __init__(
        self,
        model_path: str | Path,
        conf: float = 0.25,
        iou: float = 0.45,
        imgsz: int = 640,
        classes: Sequence[int] | None = None,
        device: str = "cpu",
        half: bool = False,
        multi_label: bool = False,
    ) -> None:
        path = Path(model_path)
        if not path.exists():
            # ultralytics would try to download a missing file by name: refuse instead.
            raise FileNotFoundError(f"YOLO model file {str(path)!r} does not exist (nothing is downloaded)")
        if not 0.0 <= conf <= 1.0 or not 0.0 <= iou <= 1.0:
            raise ValueError(f"conf and iou must be in [0, 1], got conf={conf}, iou={iou}")
        if imgsz < 32:
            raise ValueError(f"imgsz must be >= 32, got {imgsz}")
        prepare_ultralytics_env()
        from ultralytics import YOLO  # lazy: core use without ultralytics must work

        self.model_path = path
        self.conf, self.iou, self.imgsz = float(conf), float(iou), int(imgsz)
        self.classes = [int(c) for c in classes] if classes else None
        self.device, self.half = str(device), bool(half)
        # multi_label: NMS as `yolo val` runs it (a box may carry several classes), for mAP comparable with it.
        self.multi_label = bool(multi_label)
        self.model = YOLO(str(path), task="detect")
        self.names: dict[int, str] = {int(k): str(v) for k, v in dict(self.model.names or {}).items()}

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        """Detections on one BGR uint8 frame (mono frames are expanded to three channels)."""
        if bgr.ndim == 2:
            bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
        if bgr.dtype != np.uint8:
            raise ValueError(f"detector input must be uint8, got {bgr.dtype}")
        results = self.model.predict(
            bgr,
            conf=self.conf,
            iou=self.iou,
            imgsz=self.imgsz,
            classes=self.classes,
            device=self.device,
            verbose=False,
            **({"predictor": _multi_label_predictor()} if self.multi_label else {}),
            # Only pass half when asked for: newer ultralytics warns on every call that names it.
            **({"half": True} if self.half else {}),
        )
        out: list[Detection] = []
        for result in results:
            boxes = result.boxes
            if boxes is None or len(boxes) == 0:
                continue
            names = result.names or self.names
            xyxy = boxes.xyxy.cpu().numpy().astype(float)
            scores = boxes.conf.cpu().numpy().astype(float)
            ids = boxes.cls.cpu().numpy().astype(int)
            for (x1, y1, x2, y2), score, cid in zip(xyxy, scores, ids, strict=True):
                name = str(names.get(int(cid), cid))
                out.append(Detection(int(cid), name, float(score), float(x1), float(y1), float(x2), float(y2)))
        return out

    @staticmethod
    def annotate(bgr: np.ndarray, detections: Sequence[Detection]) -> np.ndarray:
        """A copy of the frame with boxes and labels drawn (OpenCV's built-in font: nothing to download)."""
        img = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR) if bgr.ndim == 2 else bgr.copy()
        for det in detections:
            colour = class_colour(det.class_id)
            p1, p2 = (int(det.x1), int(det.y1)), (int(det.x2), int(det.y2))
            cv2.rectangle(img, p1, p2, colour, 2)
            label = f"{det.class_name} {det.score:.2f}"
            (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
            top = max(p1[1] - th - base, 0)
            cv2.rectangle(img, (p1[0], top), (p1[0] + tw, top + th + base), colour, -1)
            cv2.putText(img, label, (p1[0], top + th), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        return img


@functools.cache
def _multi_label_predictor() -> type:
    """ultralytics' DetectionPredictor with the validator's multi-label NMS."""
    from ultralytics.models.yolo.detect import DetectionPredictor
    from ultralytics.utils import nms

    class MultiLabelPredictor(DetectionPredictor):
        def postprocess(self, preds, img, orig_imgs, **kwargs):
            preds = nms.non_max_suppression(
                preds,
                self.args.conf,
                self.args.iou,
                self.args.classes,
                self.args.agnostic_nms,
                multi_label=True,
                max_det=self.args.max_det,
                end2end=getattr(self.model, "end2end", False),
            )
            return self.construct_results(preds, img, orig_imgs, **kwargs)

    return MultiLabelPredictor


def class_colour(class_id: int) -> tuple[int, int, int]:
    """A stable bright BGR colour per class (boxes in pictures and in the live view)."""
    hue = (class_id * 47) % 180
    bgr = cv2.cvtColor(np.array([[[hue, 200, 255]]], np.uint8), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


def detection2d_array_fields(
    detections: Sequence[Detection],
    header: Any,
    types: Callable[[str], type],
) -> dict[str, Any]:
    """Fields of a vision_msgs/Detection2DArray (vision_msgs 4.x, Humble and Jazzy layout).

    ``types`` maps a full message name to its class (rclpy or rosbags); every nested message is
    built with all fields so that classes without defaults (rosbags) work too. Class names are the ids.
    """
    detection_cls = types("vision_msgs/msg/Detection2D")
    out = []
    for det in detections:
        hypothesis = types("vision_msgs/msg/ObjectHypothesis")(class_id=det.class_name, score=float(det.score))
        pose = types("geometry_msgs/msg/PoseWithCovariance")(
            pose=types("geometry_msgs/msg/Pose")(
                position=types("geometry_msgs/msg/Point")(x=0.0, y=0.0, z=0.0),
                orientation=types("geometry_msgs/msg/Quaternion")(x=0.0, y=0.0, z=0.0, w=1.0),
            ),
            covariance=np.zeros(36, dtype=np.float64),
        )
        result = types("vision_msgs/msg/ObjectHypothesisWithPose")(hypothesis=hypothesis, pose=pose)
        center = types("vision_msgs/msg/Pose2D")(
            position=types("vision_msgs/msg/Point2D")(x=(det.x1 + det.x2) / 2.0, y=(det.y1 + det.y2) / 2.0),
            theta=0.0,
        )
        bbox = types("vision_msgs/msg/BoundingBox2D")(
            center=center, size_x=float(det.x2 - det.x1), size_y=float(det.y2 - det.y1)
        )
        out.append(detection_cls(header=header, results=[result], bbox=bbox, id=""))
    return {"header": header, "detections": out}
