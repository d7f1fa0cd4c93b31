"""Does enhancement help the detector? mAP of an ultralytics detector on clean, darkened and enhanced frames.

A labelled folder in YOLO layout (``images/``, ``labels/`` with ``class cx cy w h`` lines in normalised
units, ``classes.txt`` and a class map ``classes_coco.json`` to the detector's ids) is darkened with noise
regimes (``llie_core.noise``); the detector runs on the clean frame, the dark frame and each stage's
output (``llie_core.stages``: registry names, NAME:WEIGHTS, chains such as ``bilateral+tiny_dce`` or any
BGR-frame callable). Average precision is ultralytics' own: ``DetectionValidator.match_predictions``
marks true positives at IoU 0.50:0.95 and ``DetMetrics`` (``ap_per_class``) integrates them, exactly as
``yolo val`` does. Only the dataset's classes count: detections are restricted to the mapped detector
classes and renumbered to the dataset's ids; on labelled sets NMS is the validator's (multi-label, all
classes, max 300 boxes), so the clean figure equals ``yolo val``'s on the same images.

Unlabelled folders (real night frames) get detections per class, mean confidence and agreement with
the reference frame (the frame as read): objects found on both, same class, IoU >= 0.5
(``llie_core.bag.quality.match_count``). Labelled sets report the same agreement with the clean frame.

The fixed split: ``split_names`` orders file names by SHA-256 of ``"llie-split-v1/" + name`` and puts
the first ``EVAL_SIZE`` (150) in the held-out evaluation part, the rest in the training part. It depends
on the names alone, so adding files moves no existing file to the other part unless it displaces it from
the first 150; training code must take its images from ``split_names(...).train`` only.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np
from tqdm import tqdm

from llie_core.bag.quality import match_count
from llie_core.detect import Detection, Detector
from llie_core.noise import NoiseRegime, darken, keyed_rng, random_processing, raw_to_rgb, to_raw
from llie_core.stages import Stage

SPLIT_SALT = "llie-split-v1"
EVAL_SIZE = 150
PARTS = ("eval", "train", "all")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
CAMERAS = ("srgb", "random")  # plain sRGB transfer, or a random Brooks et al. camera per image
COUNT_CONF = 0.25  # detections counted and matched at the detector's usual operating threshold


# --- the data -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelledImage:
    """One image and its objects: dataset class ids (N,) and normalised centre-size boxes (N×4)."""

    path: Path
    classes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))

    def xyxy(self, width: int, height: int) -> np.ndarray:
        """The boxes as N×4 corner coordinates in pixels of a width×height image."""
        cx, cy, w, h = (self.boxes * [width, height, width, height]).T
        return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


@dataclass(frozen=True)
class DetectionDataset:
    """Images to evaluate on, the dataset's class names and how the detector's class ids map onto them.

    ``class_map`` maps detector class id → dataset class id (None: the detector's own classes, unlabelled only).
    """

    root: Path
    images: list[LabelledImage]
    names: list[str]
    class_map: dict[int, int] | None
    labelled: bool
    part: str = "all"


class Split(NamedTuple):
    """The two disjoint parts of a dataset: file names for training and for held-out evaluation."""

    train: list[str]
    eval: list[str]


def split_names(names: Sequence[str], eval_size: int = EVAL_SIZE) -> Split:
    """Deterministic split by SHA-256 of ``SPLIT_SALT/name``: the first ``eval_size`` are held out (both sorted)."""
    unique = sorted(set(names))
    if len(unique) != len(names):
        raise ValueError("split_names: file names must be unique")
    if not 0 < eval_size < len(unique):
        raise ValueError(f"split_names: eval_size must be in 1..{len(unique) - 1}, got {eval_size}")
    order = sorted(unique, key=lambda n: hashlib.sha256(f"{SPLIT_SALT}/{n}".encode()).hexdigest())
    return Split(train=sorted(order[eval_size:]), eval=sorted(order[:eval_size]))


def load_dataset(
    root: str | Path,
    class_map: str | Path | None = None,
    part: str = "eval",
    eval_size: int = EVAL_SIZE,
    max_images: int | None = None,
) -> DetectionDataset:
    """A YOLO-layout folder (labelled) or a plain folder of images (unlabelled), restricted to ``part``.

    Labelled: ``root/images`` and ``root/labels``; names from ``classes.txt``; the class map from
    ``class_map`` or ``root/classes_coco.json`` (a list of ``{"id", "name", "coco80_id"}``), else the
    dataset's ids are taken to be the detector's. ``part`` is "eval" (held out), "train" or "all";
    unlabelled folders are always used whole. ``max_images`` keeps the first N (sorted by name).
    """
    root = Path(root)
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
    image_dir = root / "images" if (root / "images").is_dir() else root
    if not image_dir.is_dir():
        raise FileNotFoundError(f"dataset folder {root} does not exist")
    files = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no images in {image_dir}")
    labelled = (root / "labels").is_dir()
    if labelled:
        names = _class_names(root)
        mapping = _class_map(Path(class_map) if class_map else root / "classes_coco.json", names)
        if part != "all":
            keep = set(getattr(split_names([f.name for f in files], eval_size), part))
            files = [f for f in files if f.name in keep]
        images = [_read_labels(f, root / "labels" / f"{f.stem}.txt", len(names)) for f in files[:max_images]]
    else:
        names, mapping, part = [], None, "all"
        images = [LabelledImage(f) for f in files[:max_images]]
    return DetectionDataset(root, images, names, mapping, labelled, part)


def _class_names(root: Path) -> list[str]:
    path = root / "classes.txt"
    if path.is_file():
        names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    elif (root / "classes_coco.json").is_file():
        entries = json.loads((root / "classes_coco.json").read_text())
        names = [e["name"] for e in sorted(entries, key=lambda e: e["id"])]
    else:
        raise FileNotFoundError(f"labelled dataset {root} has no classes.txt naming its classes")
    if not names:
        raise ValueError(f"{path} lists no classes")
    return names


def _class_map(path: Path, names: list[str]) -> dict[int, int]:
    """Detector id → dataset id from a JSON list of {"id", "coco80_id"} (identity when the file is absent)."""
    if not path.is_file():
        return {i: i for i in range(len(names))}
    try:
        entries = json.loads(path.read_text())
        mapping = {int(e["coco80_id"]): int(e["id"]) for e in entries}
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"class map {path}: expected a JSON list of {{'id', 'coco80_id'}} entries ({exc})") from None
    if sorted(mapping.values()) != list(range(len(names))):
        raise ValueError(f"class map {path} must map each of the {len(names)} classes once, got ids {mapping}")
    return mapping


def _read_labels(image: Path, label: Path, n_classes: int) -> LabelledImage:
    """YOLO label file → LabelledImage; a missing file is an image without objects."""
    if not label.is_file():
        return LabelledImage(image)
    rows = []
    for number, line in enumerate(label.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            values = []
        if len(values) != 5 or not values[0].is_integer() or not 0 <= values[0] < n_classes:
            raise ValueError(f"{label}:{number}: expected 'class cx cy w h' with class in 0..{n_classes - 1}: {line!r}")
        rows.append(values)
    table = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
    return LabelledImage(image, table[:, 0].astype(np.int64), table[:, 1:])


def read_bgr(path: Path) -> np.ndarray:
    """An image file as H×W×3 BGR uint8; an error naming the file if it cannot be read."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot read image {path}")
    return bgr


# --- detection, matching, AP --------------------------------------------------------------------------


def make_detector(
    model: str | Path, dataset: DetectionDataset, conf: float, iou: float = 0.7, imgsz: int = 640, device: str = "cpu"
) -> Detector:
    """The detector as ``yolo val`` runs it on labelled sets (multi-label NMS, all classes), else as deployed."""
    return Detector(model, conf=conf, iou=iou, imgsz=imgsz, device=device, multi_label=dataset.labelled)


def detect(detector: Detector, bgr: np.ndarray, class_map: Mapping[int, int] | None, names: list[str]) -> list:
    """Detections on a frame, renumbered to dataset class ids (detector classes outside the map dropped)."""
    out = []
    for d in detector.detect(bgr):
        if class_map is None:
            out.append(d)
        elif d.class_id in class_map:
            cid = class_map[d.class_id]
            out.append(Detection(cid, names[cid], d.score, d.x1, d.y1, d.x2, d.y2))
    return out


def match_to_labels(detections: Sequence[Detection], classes: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
    """True positives (N×10 bool, IoU 0.50:0.95) of detections sorted by descending score, as ``yolo val``."""
    import torch
    from ultralytics.utils.metrics import box_iou

    validator = _validator()
    if not detections or not len(classes):
        return np.zeros((len(detections), len(validator.iouv)), dtype=bool)
    pred_boxes = torch.tensor([[d.x1, d.y1, d.x2, d.y2] for d in detections], dtype=torch.float32)
    pred_cls = torch.tensor([d.class_id for d in detections], dtype=torch.float32)
    iou = box_iou(torch.as_tensor(xyxy, dtype=torch.float32), pred_boxes)
    return validator.match_predictions(pred_cls, torch.as_tensor(classes, dtype=torch.float32), iou).numpy()


@functools.cache
def _validator() -> Any:
    """One DetectionValidator, for its IoU thresholds and matching (it builds no model or data)."""
    from ultralytics.models.yolo.detect import DetectionValidator

    return DetectionValidator()


class APAccumulator:
    """Per-image true positives collected for ultralytics' DetMetrics; ``result()`` gives mAP and per-class AP."""

    def __init__(self, names: list[str]) -> None:
        from ultralytics.utils.metrics import DetMetrics

        self.names = names
        self.metrics = DetMetrics(names=dict(enumerate(names)))
        self.records: list[dict[str, Any]] = []  # per image: tp, conf, pred_cls, target_cls, target_img, im_name
        self.images = 0

    def add(self, name: str, detections: Sequence[Detection], classes: np.ndarray, xyxy: np.ndarray) -> None:
        """Add one image: its detections (any order) and its labels (dataset ids, N×4 pixel corners)."""
        dets = sorted(detections, key=lambda d: -d.score)
        self.add_record(
            {
                "tp": match_to_labels(dets, classes, xyxy),
                "conf": np.array([d.score for d in dets], dtype=np.float32),
                "pred_cls": np.array([d.class_id for d in dets], dtype=np.float32),
                "target_cls": np.asarray(classes, dtype=np.float32),
                "target_img": np.unique(classes).astype(np.float32),
                "im_name": name,
            }
        )

    def add_record(self, record: dict[str, Any]) -> None:
        """Add one image's match statistics as ``records`` holds them (plain arrays: from another shard too).

        AP is computed once over all records (``result``), so shards merged in image order give the
        figures of one run over all their images.
        """
        self.metrics.update_stats(record)
        self.records.append(record)
        self.images += 1

    def result(self) -> dict[str, Any]:
        """mAP50, mAP50-95 (fractions; mean over classes with labels), per class AP and the mean PR curve."""
        self.metrics.process()
        box = self.metrics.box
        labels = Counter(np.concatenate(self.metrics.stats["target_cls"]).astype(int).tolist())
        per_class = {}
        for i, c in enumerate(box.ap_class_index):
            per_class[self.names[int(c)]] = {
                "ap50": float(box.all_ap[i, 0]),
                "ap50_95": float(box.all_ap[i].mean()),
                "labels": labels[int(c)],
            }
        # Precision at IoU 0.5 against recall (1000 points), averaged over classes, kept at 101 points.
        curve = np.asarray(box.prec_values).mean(axis=0) if len(box.ap_class_index) else np.zeros(1000)
        return {
            "map50": float(box.map50),
            "map50_95": float(box.map),
            "precision": float(box.mp),
            "recall": float(box.mr),
            "per_class": per_class,
            "pr_curve": [round(float(v), 4) for v in curve[::10][:101]],
        }


def detection_summary(
    detections: Sequence[Sequence[Detection]], reference: Sequence[Sequence[Detection]] | None, conf: float
) -> dict[str, Any]:
    """Counts per class and mean confidence at ``conf``, and objects found on the reference frame too."""
    kept = [[d for d in frame if d.score >= conf] for frame in detections]
    found = [d for frame in kept for d in frame]
    out: dict[str, Any] = {
        "conf": conf,
        "total": len(found),
        "per_class": dict(sorted(Counter(d.class_name for d in found).items())),
        "mean_confidence": float(np.mean([d.score for d in found])) if found else None,
    }
    if reference is not None:
        ref = [[d for d in frame if d.score >= conf] for frame in reference]
        matched = sum(match_count(r, k) for r, k in zip(ref, kept, strict=True))
        ref_total = sum(len(r) for r in ref)
        out |= {
            "matched": matched,
            "also_on_reference": matched / len(found) if found else None,
            "reference_also_found": matched / ref_total if ref_total else None,
        }
    return out


# --- the clean-frame cache ----------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """Where clean-frame detections are cached: $XDG_CACHE_HOME/llie/detect_eval (~/.cache by default)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "llie" / "detect_eval"


class DetectionCache:
    """Detections of unmodified image files, keyed by detector file, its settings and each file's size and mtime."""

    def __init__(self, folder: Path, detector: Detector, class_map: Mapping[int, int] | None) -> None:
        digest = hashlib.sha256(detector.model_path.read_bytes()).hexdigest()
        settings = [
            digest,
            detector.imgsz,
            detector.conf,
            detector.iou,
            detector.multi_label,
            sorted((class_map or {}).items()),
        ]
        key = hashlib.sha256(json.dumps(settings).encode()).hexdigest()[:20]
        self.path = Path(folder) / f"{key}.json"
        self.entries: dict[str, Any] = {}
        if self.path.is_file():
            try:
                self.entries = json.loads(self.path.read_text())
            except ValueError:  # a cut-off write: start again
                self.entries = {}
        self.hits = 0

    @staticmethod
    def _stamp(path: Path) -> str:
        st = path.stat()
        return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"

    def get(self, path: Path) -> list[Detection] | None:
        """Cached detections of an image file, or None."""
        rows = self.entries.get(self._stamp(path))
        if rows is None:
            return None
        self.hits += 1
        return [Detection(int(r[0]), str(r[1]), *map(float, r[2:])) for r in rows]

    def put(self, path: Path, detections: Sequence[Detection]) -> None:
        """Remember the detections of an image file (saved by ``save``)."""
        self.entries[self._stamp(path)] = [
            [d.class_id, d.class_name, d.score, d.x1, d.y1, d.x2, d.y2] for d in detections
        ]

    def save(self) -> None:
        """Write the cache file atomically, keeping entries other processes saved meanwhile (parallel shards)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_file():
            try:
                self.entries = json.loads(self.path.read_text()) | self.entries
            except ValueError:  # a cut-off write: ours replaces it
                pass
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.entries))
        tmp.replace(self.path)


# --- the evaluation -----------------------------------------------------------------------------------


@dataclass
class Track:
    """Everything gathered for one row (dark frame or a stage's output) of one condition."""

    ap: APAccumulator | None
    detections: list[list[Detection]] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)


Crops = dict[str, list[list[tuple[str, np.ndarray]]]]  # condition → rows of labelled panels (BGR)


@dataclass
class Gathered:
    """What a run over images collects before any metric: the reference track, each condition's rows, crops.

    Runs over consecutive parts of a dataset concatenated in order (``llie_core.detect_fleet``) equal one
    run over the whole: every figure is computed from these per-image records by ``summarize``.
    """

    reference: Track
    tracks: dict[str, dict[str, Track]]  # condition → row ("dark" or a stage label) → track
    crops: Crops


def evaluate(
    dataset: DetectionDataset,
    detector: Detector,
    stages: Mapping[str, Stage],
    regimes: Sequence[NoiseRegime],
    seed: int = 0,
    camera: str = "srgb",
    bayer: str | None = None,
    raw: bool = False,
    count_conf: float = COUNT_CONF,
    cache: DetectionCache | None = None,
    examples: int = 2,
    progress: bool = True,
) -> tuple[dict[str, Any], Crops]:
    """Run the detector on reference, dark and enhanced frames; (results, example crops by condition).

    Conditions: one per regime (the frame darkened with it), or, with no regimes, ``input`` (the frame
    as read: real night frames). ``camera`` "random" unprocesses each image with its own seeded random
    camera (Brooks et al.); ``bayer`` applies the noise on a mosaic of that pattern. ``raw`` makes every
    dark frame through the RAW path (a mosaic of ``bayer``, default RGGB): stages that take RAW frames
    (``Stage.takes_raw``: llpacknet) get the mosaic, the others and the ``dark`` row the camera's
    rendering of it (the same frame ``bayer`` alone gives). Example crops
    (``examples`` images, those with most labels) show the reference, dark and each stage's output
    with detections at ``count_conf`` drawn.
    """
    t0 = time.perf_counter()
    example_ids = example_indices(dataset, examples)
    gathered = gather(
        dataset, detector, stages, regimes, seed, camera, bayer, count_conf, cache, example_ids, progress, raw=raw
    )
    results = summarize(
        dataset, detector_info(detector), list(stages), regimes, gathered, seed, camera, bayer, count_conf, raw=raw
    )
    results["wall_time_s"] = round(time.perf_counter() - t0, 1)
    results["cache"] = {"path": str(cache.path), "hits": cache.hits} if cache else None
    return results, gathered.crops


def gather(
    dataset: DetectionDataset,
    detector: Detector,
    stages: Mapping[str, Stage],
    regimes: Sequence[NoiseRegime],
    seed: int = 0,
    camera: str = "srgb",
    bayer: str | None = None,
    count_conf: float = COUNT_CONF,
    cache: DetectionCache | None = None,
    example_ids: Collection[int] = (),
    progress: bool = True,
    raw: bool = False,
) -> Gathered:
    """The evaluation loop of ``evaluate`` over ``dataset.images``; crops of the images at ``example_ids``."""
    if camera not in CAMERAS:
        raise ValueError(f"camera must be one of {', '.join(CAMERAS)}, got {camera!r}")
    if "dark" in stages or "clean" in stages:
        raise ValueError("stage labels 'clean' and 'dark' are reserved")
    raw_stages = [label for label, stage in stages.items() if getattr(stage, "takes_raw", False)]
    if raw_stages and not (raw and regimes):
        raise ValueError(f"stages {', '.join(raw_stages)} take RAW frames: darken through the RAW path (raw=True)")
    reference_name = "clean" if dataset.labelled else "input"
    conditions = [r.name for r in regimes] or ["input"]
    if len(set(conditions)) != len(conditions):
        raise ValueError(f"regime names must be unique, got {conditions}")
    rows = ([] if not regimes else ["dark"]) + list(stages)

    def track() -> Track:
        return Track(APAccumulator(dataset.names) if dataset.labelled else None)

    reference = track()
    tracks = {c: {row: track() for row in rows} for c in conditions}
    crops: Crops = {c: [] for c in conditions}
    for index, item in enumerate(tqdm(dataset.images, desc="eval detect", unit="image", disable=not progress)):
        bgr = read_bgr(item.path)
        height, width = bgr.shape[:2]
        xyxy = item.xyxy(width, height)
        cached = cache.get(item.path) if cache else None
        ref_dets = cached if cached is not None else detect(detector, bgr, dataset.class_map, dataset.names)
        if cache and cached is None:
            cache.put(item.path, ref_dets)
        _add(reference, item, ref_dets, xyxy)
        for condition, regime in zip(conditions, regimes or [None], strict=True):
            frames, mosaic = {}, None
            if regime is None:
                source = bgr
            else:
                rng = keyed_rng(seed, item.path.name, regime.name)
                processing = random_processing(rng) if camera == "random" else None
                rgb = bgr[:, :, ::-1].copy()
                if raw:  # to_raw + raw_to_rgb is darken's RAW path: the same frame, the mosaic kept
                    mosaic = to_raw(rgb, regime, rng, processing, bayer or "RGGB")
                    source = raw_to_rgb(mosaic)[:, :, ::-1].copy()
                else:
                    source = darken(rgb, regime, rng, processing, bayer)[:, :, ::-1].copy()
                frames["dark"] = source
                _add(tracks[condition]["dark"], item, detect(detector, source, dataset.class_map, dataset.names), xyxy)
            for label, stage in stages.items():
                start = time.perf_counter()
                out = stage(mosaic if getattr(stage, "takes_raw", False) else source)
                tracks[condition][label].ms.append((time.perf_counter() - start) * 1000)
                _check_output(out, source, label)
                frames[label] = out
                _add(tracks[condition][label], item, detect(detector, out, dataset.class_map, dataset.names), xyxy)
            if index in example_ids:
                panels = [(reference_name, bgr, ref_dets, xyxy)] + [
                    (label, frame, tracks[condition][label].detections[-1], None) for label, frame in frames.items()
                ]
                crops[condition].append(_crop_row(panels, xyxy, count_conf))
    if cache:
        cache.save()
    return Gathered(reference, tracks, crops)


def detector_info(detector: Detector) -> dict[str, Any]:
    """The detector as the report names it: model file, input size, thresholds."""
    return {"model": str(detector.model_path), "imgsz": detector.imgsz, "conf": detector.conf, "iou": detector.iou}


def summarize(
    dataset: DetectionDataset,
    detector: dict[str, Any],
    stages: Sequence[str],
    regimes: Sequence[NoiseRegime],
    gathered: Gathered,
    seed: int = 0,
    camera: str = "srgb",
    bayer: str | None = None,
    count_conf: float = COUNT_CONF,
    raw: bool = False,
) -> dict[str, Any]:
    """The results of ``evaluate`` (less wall time and cache) from gathered tracks: AP once over all images."""
    conditions = list(gathered.tracks)
    results = _results(dataset, detector, stages, regimes, conditions, gathered.reference, gathered.tracks, count_conf)
    results["noise"] |= {"seed": seed, "camera": camera, "bayer": bayer or ("RGGB" if raw else None), "raw": raw}
    results["reference"]["name"] = "clean" if dataset.labelled else "input"
    return results


def _add(track: Track, item: LabelledImage, detections: list[Detection], xyxy: np.ndarray) -> None:
    track.detections.append(detections)
    if track.ap is not None:
        track.ap.add(item.path.name, detections, item.classes, xyxy)


def _check_output(out: Any, source: np.ndarray, label: str) -> None:
    if not isinstance(out, np.ndarray) or out.shape != source.shape or out.dtype != np.uint8:
        got = f"{getattr(out, 'shape', type(out).__name__)} {getattr(out, 'dtype', '')}"
        raise ValueError(
            f"stage {label!r} must return an H×W×3 uint8 frame of the input's size {source.shape}, got {got}"
        )


def example_indices(dataset: DetectionDataset, examples: int) -> set[int]:
    """Indices of the images shown as examples: the ``examples`` busiest (labelled) or evenly spaced."""
    n = len(dataset.images)
    if examples <= 0 or not n:
        return set()
    if dataset.labelled:  # the busiest scenes show most
        order = sorted(range(n), key=lambda i: (-len(dataset.images[i].classes), i))
        return set(order[:examples])
    return set(np.linspace(0, n - 1, min(examples, n)).round().astype(int).tolist())


def _crop_row(
    panels: list[tuple], xyxy: np.ndarray, conf: float, height: int = 200, width: int = 320
) -> list[tuple[str, np.ndarray]]:
    """One crop (around the labelled objects, else the whole frame) of each panel, boxes drawn, fit in width×height."""
    h, w = panels[0][1].shape[:2]
    if len(xyxy):
        x1, y1 = xyxy[:, :2].min(axis=0)
        x2, y2 = xyxy[:, 2:].max(axis=0)
        pad = 0.1 * max(x2 - x1, y2 - y1, 160)
        x1, y1 = int(max(0, x1 - pad)), int(max(0, y1 - pad))
        x2, y2 = int(min(w, x2 + pad)), int(min(h, y2 + pad))
    else:
        x1, y1, x2, y2 = 0, 0, w, h
    row = []
    for label, frame, detections, labels in panels:
        img = Detector.annotate(frame, [d for d in detections if d.score >= conf])
        if labels is not None:  # ground truth in white on the reference panel
            for bx1, by1, bx2, by2 in labels.astype(int):
                cv2.rectangle(img, (bx1, by1), (bx2, by2), (255, 255, 255), 1)
        crop = img[y1:y2, x1:x2]
        scale = min(height / crop.shape[0], width / crop.shape[1])
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        row.append((label, cv2.resize(crop, size, interpolation=cv2.INTER_AREA)))
    return row


def _recovered(value: float, dark: float, clean: float) -> float | None:
    """(model − dark) / (clean − dark); None when clean and dark are equal."""
    return (value - dark) / (clean - dark) if abs(clean - dark) > 1e-9 else None


def _results(
    dataset: DetectionDataset,
    detector: dict[str, Any],
    stages: Sequence[str],
    regimes: Sequence[NoiseRegime],
    conditions: list[str],
    reference: Track,
    tracks: dict[str, dict[str, Track]],
    conf: float,
) -> dict[str, Any]:
    ref = {"detections": detection_summary(reference.detections, None, conf)}
    if reference.ap is not None:
        ref |= reference.ap.result()
    out_conditions: dict[str, Any] = {}
    for condition, regime in zip(conditions, regimes or [None], strict=True):
        entry: dict[str, Any] = {"regime": _regime_dict(regime) if regime else None, "rows": {}}
        for row, t in tracks[condition].items():
            metrics: dict[str, Any] = {"detections": detection_summary(t.detections, reference.detections, conf)}
            if t.ap is not None:
                metrics |= t.ap.result()
            if t.ms:
                metrics["ms_per_image"] = {"median": statistics.median(t.ms), "mean": statistics.fmean(t.ms)}
            entry["rows"][row] = metrics
        if dataset.labelled and "dark" in entry["rows"]:
            dark = entry["rows"]["dark"]
            for row, metrics in entry["rows"].items():
                metrics["recovered"] = (
                    {k: _recovered(metrics[k], dark[k], ref[k]) for k in ("map50", "map50_95")}
                    if row != "dark"
                    else None
                )
        out_conditions[condition] = entry
    return {
        "dataset": {
            "root": str(dataset.root),
            "labelled": dataset.labelled,
            "part": dataset.part,
            "split": {"salt": SPLIT_SALT, "eval_size": EVAL_SIZE} if dataset.labelled else None,
            "images": len(dataset.images),
            "classes": dataset.names,
            "class_map": {str(k): v for k, v in (dataset.class_map or {}).items()} or None,
        },
        "detector": detector,
        "noise": {"regimes": {r.name: _regime_dict(r) for r in regimes}},
        "stages": list(stages),
        "reference": ref,
        "conditions": out_conditions,
    }


def _regime_dict(regime: NoiseRegime) -> dict[str, Any]:
    return {
        "ratio": regime.ratio,
        "full_well": regime.full_well,
        "read_sigma": regime.read_sigma,
        "row_sigma": regime.row_sigma,
        "bit_depth": regime.bit_depth,
        "description": regime.describe(),
    }


def headline_table(results: dict[str, Any], key: str = "map50") -> list[list[Any]]:
    """Rows of the summary table: condition, reference, dark, each stage (``key`` in %, None where absent)."""
    rows = []
    ref = results["reference"].get(key)
    for condition, entry in results["conditions"].items():
        values = [entry["rows"].get(r, {}).get(key) for r in ["dark", *results["stages"]]]
        rows.append([condition, *(None if v is None else 100 * v for v in [ref, *values])])
    return rows
