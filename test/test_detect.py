"""Detection: Detection2DArray construction (always) and the real YOLO model on a real night frame (when shared)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from llie_core.detect import Detection, Detector, detection2d_array_fields, prepare_ultralytics_env
from llie_core.registry import shared_dir

DETS = [
    Detection(0, "person", 0.9, 10.0, 20.0, 50.0, 120.0),
    Detection(2, "car", 0.4, 100.5, 40.0, 300.5, 140.0),
]


def _store():
    pytest.importorskip("rosbags.typesys", reason="rosbags provides the real ROS 2 message classes")
    import rosbags_types

    return rosbags_types


def test_detection2d_array_fields_with_real_classes() -> None:
    rt = _store()
    store = rt.typestore()
    hdr = rt.header(store)
    msg = store.types["vision_msgs/msg/Detection2DArray"](
        **detection2d_array_fields(DETS, hdr, store.types.__getitem__)
    )
    assert msg.header.stamp.sec == 1_700_000_123 and len(msg.detections) == 2
    car = msg.detections[1]
    assert car.header.stamp.nanosec == 456_789
    assert car.results[0].hypothesis.class_id == "car" and car.results[0].hypothesis.score == pytest.approx(0.4)
    assert (car.bbox.center.position.x, car.bbox.center.position.y) == (200.5, 90.0)
    assert (car.bbox.size_x, car.bbox.size_y) == (200.0, 100.0)
    # The message serialises with the real CDR serializer and comes back equal.
    raw = store.serialize_cdr(msg, "vision_msgs/msg/Detection2DArray")
    back = store.deserialize_cdr(raw, "vision_msgs/msg/Detection2DArray")
    assert back.detections[0].results[0].hypothesis.class_id == "person"
    assert back.detections[0].bbox.size_y == 100.0


def test_empty_detection_array() -> None:
    rt = _store()
    store = rt.typestore()
    msg = store.types["vision_msgs/msg/Detection2DArray"](
        **detection2d_array_fields([], rt.header(store), store.types.__getitem__)
    )
    assert msg.detections == [] and msg.header.frame_id == "cam"


def test_annotate_draws_without_touching_input() -> None:
    img = np.zeros((160, 320, 3), np.uint8)
    out = Detector.annotate(img, DETS)
    assert out.shape == img.shape and img.sum() == 0 and out.sum() > 0
    assert out[20:120, 10].any()  # left edge of the person box
    mono = Detector.annotate(np.zeros((160, 320), np.uint8), DETS)
    assert mono.shape == (160, 320, 3)


def test_missing_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Detector(tmp_path / "yolov8n.pt")


def _model_and_image() -> tuple[Path, Path]:
    model = shared_dir() / "models" / "detect" / "yolov8n.pt"
    images = sorted((shared_dir() / "data" / "night" / "bdd100k_night").glob("*.jpg"))
    if not model.is_file() or not images:
        pytest.skip(f"needs {model} and night images under {shared_dir()}/data/night/bdd100k_night")
    return model, images[0]


@pytest.fixture(scope="module")
def detector() -> Detector:
    model, _ = _model_and_image()
    pytest.importorskip("ultralytics", reason="ultralytics runs the YOLO model")
    config = prepare_ultralytics_env()
    font = config / "Ultralytics" / "Arial.ttf"
    if not font.exists():  # ultralytics checks for its font on import of plotting; never download it
        for candidate in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
            if os.path.exists(candidate):
                font.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(candidate, font)
    return Detector(model, conf=0.25, iou=0.45, imgsz=640)


def test_yolo_on_a_night_frame(detector: Detector) -> None:
    _, image = _model_and_image()
    bgr = cv2.imread(str(image))
    h, w = bgr.shape[:2]
    # A night street scene: boost it so the small model finds something to assert on.
    bright = cv2.convertScaleAbs(bgr, alpha=2.0, beta=10)
    dets = detector.detect(bright)
    assert dets, f"no detections on {image.name}"
    for d in dets:
        assert 0 <= d.x1 < d.x2 <= w + 1 and 0 <= d.y1 < d.y2 <= h + 1
        assert 0.25 <= d.score <= 1.0
        assert detector.names[d.class_id] == d.class_name
    annotated = detector.annotate(bright, dets)
    assert annotated.shape == bright.shape and not np.array_equal(annotated, bright)


def test_yolo_classes_filter_and_blank_frame(detector: Detector) -> None:
    _, image = _model_and_image()
    bgr = cv2.convertScaleAbs(cv2.imread(str(image)), alpha=2.0, beta=10)
    only = Detector(detector.model_path, conf=0.25, classes=[2])  # 2: car in COCO
    assert all(d.class_id == 2 for d in only.detect(bgr))
    assert detector.detect(np.zeros((240, 320, 3), np.uint8)) == []


def test_detector_core_with_yolo_and_real_messages(detector: Detector) -> None:
    from llie_core.imgmsg import array_to_image_fields
    from llie_ros.processing import DetectorCore, ModelHolder, MsgTypes, Publishers

    rt = _store()
    store = rt.typestore()
    _, image = _model_and_image()
    bgr = cv2.convertScaleAbs(cv2.imread(str(image)), alpha=2.0, beta=10)
    holder = ModelHolder(lambda params: detector, ("model",))
    holder.load({"model": str(detector.model_path)})
    published: list = []
    core = DetectorCore(
        holder,
        MsgTypes(image=store.types["sensor_msgs/msg/Image"], resolve=store.types.__getitem__),
        Publishers(detections=published.append, annotated_wanted=lambda: False),
    )
    msg = store.types["sensor_msgs/msg/Image"](**array_to_image_fields(bgr[:, :, ::-1], "rgb8", rt.header(store)))
    core.offer(msg)
    (out,) = published
    assert out.header.stamp.sec == 1_700_000_123 and out.detections and core.stats.failed == 0
    names = set(detector.names.values())
    for det in out.detections:
        assert det.results[0].hypothesis.class_id in names and 0.25 <= det.results[0].hypothesis.score <= 1.0
        assert 0 <= det.bbox.center.position.x <= bgr.shape[1] and det.bbox.size_x > 0
