"""Detection-aware training of the noise-aware DCE: a frozen detector as the task loss on dark noisy frames.

Two kinds of batch, one optimiser:

- look (``data``, SICE by default): clean low-light images; the student is distilled from a frozen Zero-DCE++
  (``distill``: kd·(MSE + kd_ssim·(1 − SSIM)) on its output + task·zero-reference losses), so that without
  noise it looks like Zero-DCE++ and blends nothing in.
- detect (``detect``): clean images darkened with the sensor noise model at random regimes between none and
  heavier than ``heavy`` (both cameras); the frozen detector's raw predictions on the enhanced frame are
  trained towards the targets (labels, or the detector's own detections on the clean frame, cached beside
  the run folder) with ultralytics' v8DetectionLoss (training/task_loss.py), so that noise is smoothed where the
  detector needs it.

Stage 1 (``distill.stage1_epochs``) is the look alone; stage 2 adds the detection batches. Detection batches
depend only on (seed, epoch, step), so ``--resume`` repeats them; ``detect.workers`` processes prepare them
(darkening is the costly part), each with one thread.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from llie_core.curves import estimation_size
from llie_core.detect_eval import IMAGE_SUFFIXES, LabelledImage, load_dataset, read_bgr
from llie_core.engine.estimate import frame_noise_sigma
from llie_core.kernels import downscale_normalised, mixed_guide
from llie_core.losses import zero_reference_loss
from llie_core.models.dce import apply_curves
from llie_core.models.noise_dce import NoiseAwareDCE, apply_denoise_curves, upsample_guide
from llie_core.noise import NoiseRegime, darken, random_processing
from training.config import DetectConfig, TrainConfig, resolve_path
from training.distill import curves_two_resolutions, load_teacher, output_distillation
from training.engine import pick_device, run_training
from training.task_loss import DetectionTargetLoss, FrozenDetector

PAD = 114 / 255  # ultralytics' letterbox grey, where a crop extends past the frame
PARTS = ("det", "box", "cls", "dfl", "kd_mse", "kd_ssim", "task", "w_det", "w_look", "sigma_det")


# --- the detection images and their targets -----------------------------------------------------------------


def detection_images(d: DetectConfig) -> tuple[list[LabelledImage], dict[int, int] | None]:
    """The clean images (with labels where the folder has them) and the dataset → detector class map."""
    root = resolve_path(d.images)
    if (root / "labels").is_dir():
        dataset = load_dataset(root, part=d.part)
        images = dataset.images
        to_detector = {v: k for k, v in dataset.class_map.items()} if dataset.class_map else None
    else:
        if not root.is_dir():
            raise FileNotFoundError(f"detect.images: folder {root} does not exist")
        images = [LabelledImage(p) for p in sorted(root.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
        to_detector = None
    if d.max_images > 0:
        images = images[: d.max_images]
    if not images:
        raise FileNotFoundError(f"detect.images: no images in {root}")
    return images, to_detector


def detector_scale(height: int, width: int, imgsz: int) -> float:
    """How the detector will see a frame: scaled so that its longer side is ``imgsz`` (never enlarged)."""
    return min(1.0, imgsz / max(height, width))


def scaled_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """(h, w) of a frame at the detector's scale."""
    return max(1, round(height * scale)), max(1, round(width * scale))


def clean_detections(detector: FrozenDetector, rgb: np.ndarray, scale: float, conf: float) -> np.ndarray:
    """The detector's own detections on a clean RGB uint8 frame at its scale: M×5 [class, x1, y1, x2, y2]."""
    h, w = scaled_size(*rgb.shape[:2], scale)
    small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_LINEAR) if (h, w) != rgb.shape[:2] else rgb
    stride = detector.stride
    ph, pw = -(-h // stride) * stride, -(-w // stride) * stride
    x = torch.full((1, 3, ph, pw), PAD)
    x[0, :, :h, :w] = torch.from_numpy(np.ascontiguousarray(small)).permute(2, 0, 1).float() / 255
    found = detector.detect(x, conf=conf)[0].cpu().numpy()
    return np.concatenate([found[:, 5:6], found[:, :4]], axis=1).astype(np.float32)


def build_targets(
    images: list[LabelledImage],
    to_detector: dict[int, int] | None,
    detector: FrozenDetector,
    d: DetectConfig,
    cache_path: Path,
    progress: bool = True,
) -> list[np.ndarray]:
    """Targets per image at the detector's scale, M×5 [detector class, x1, y1, x2, y2] (pixels).

    ``detect.targets`` "labels": the labels; "detections": the detector's detections on the clean frame;
    "auto": the labels plus detections of classes the labels do not cover where labels exist, else detections.
    Clean-frame detections are cached in ``cache_path`` (keyed by detector, settings and each file's content).
    """
    from tqdm import tqdm

    labelled = to_detector is not None
    if d.targets == "labels" and not labelled:
        raise ValueError(f"detect.targets is 'labels' but {d.images} has no labels/ folder")
    use_labels = labelled and d.targets in ("auto", "labels")
    use_detections = d.targets == "detections" or (d.targets == "auto")
    key = hashlib.sha256(detector.path.read_bytes()).hexdigest()[:16] + f"|{d.imgsz}|{d.target_conf}"
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    cache = cache if cache.get("key") == key else {"key": key, "images": {}}
    targets = []
    for item in tqdm(images, desc="clean-frame targets", unit="image", disable=not progress):
        rgb = read_bgr(item.path)[:, :, ::-1]
        height, width = rgb.shape[:2]
        scale = detector_scale(height, width, d.imgsz)
        rows = [np.zeros((0, 5), np.float32)]
        if use_labels:
            boxes = item.xyxy(width, height) * scale
            classes = np.array([to_detector[int(c)] for c in item.classes], np.float32)
            rows.append(np.concatenate([classes[:, None], boxes], axis=1).astype(np.float32))
        if use_detections:
            stamp = hashlib.sha256(item.path.read_bytes()).hexdigest()
            if stamp not in cache["images"]:
                cache["images"][stamp] = clean_detections(detector, rgb, scale, d.target_conf).tolist()
            found = np.asarray(cache["images"][stamp], np.float32).reshape(-1, 5)
            if use_labels:  # the detector's classes the labels do not cover
                found = found[~np.isin(found[:, 0], list(to_detector.values()))]
            rows.append(found)
        targets.append(np.concatenate(rows))
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache_path.write_text(json.dumps(cache))
    return targets


# --- detection examples ---------------------------------------------------------------------------------------


def sample_regime(rng: np.random.Generator, d: DetectConfig) -> NoiseRegime:
    """A regime between none and heavier than ``heavy``: ratio and full well log-uniform, read noise uniform."""
    ratio = math.exp(rng.uniform(*np.log(d.ratio_range)))
    if rng.random() < d.clean_fraction:
        return NoiseRegime("sampled", ratio)
    full_well = math.exp(rng.uniform(*np.log(d.full_well_range)))
    return NoiseRegime("sampled", ratio, full_well=full_well, read_sigma=float(rng.uniform(*d.read_sigma_range)))


def crop_window(boxes: np.ndarray, size: tuple[int, int], crop: int, rng: np.random.Generator) -> tuple[int, int]:
    """Top-left (y, x) of a crop×crop window in an image of ``size``: around a random target (70%) or anywhere."""
    h, w = size
    if len(boxes) and rng.random() < 0.7:
        x1, y1, x2, y2 = boxes[rng.integers(len(boxes))]
        cy, cx = (y1 + y2) / 2 + rng.uniform(-0.25, 0.25) * crop, (x1 + x2) / 2 + rng.uniform(-0.25, 0.25) * crop
    else:
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    y = int(np.clip(round(cy - crop / 2), 0, max(0, h - crop)))
    x = int(np.clip(round(cx - crop / 2), 0, max(0, w - crop)))
    return y, x


def crop_targets(targets: np.ndarray, y: int, x: int, crop: int, min_kept: float = 0.4) -> np.ndarray:
    """Targets shifted into a crop and clipped to it; boxes with less than ``min_kept`` of their area inside dropped."""
    if not len(targets):
        return targets
    boxes = targets[:, 1:] - np.array([x, y, x, y], np.float32)
    clipped = np.clip(boxes, 0, crop)
    area = np.prod(np.maximum(boxes[:, 2:] - boxes[:, :2], 1e-6), axis=1)
    inside = np.prod(np.maximum(clipped[:, 2:] - clipped[:, :2], 0), axis=1)
    keep = (inside >= min_kept * area) & np.all(clipped[:, 2:] - clipped[:, :2] >= 2, axis=1)
    return np.concatenate([targets[keep, :1], clipped[keep]], axis=1)


def detection_example(
    item: LabelledImage, targets: np.ndarray, cfg: TrainConfig, rng: np.random.Generator
) -> dict[str, Any]:
    """One darkened training frame with what the runtime derives from it, a crop window and its targets."""
    d = cfg.detect
    rgb = np.ascontiguousarray(read_bgr(item.path)[:, :, ::-1])
    regime = sample_regime(rng, d)
    processing = random_processing(rng) if rng.random() < d.random_camera_fraction else None
    dark = darken(rgb, regime, rng, processing)
    height, width = dark.shape[:2]
    scale = detector_scale(height, width, d.imgsz)
    size = scaled_size(height, width, scale)
    y, x = crop_window(targets[:, 1:], size, d.crop, rng)
    return {
        "dark": dark,
        "low": downscale_normalised(dark, estimation_size(height, width, cfg.scale_factor), reverse=False),
        "sigma": (sigma := frame_noise_sigma(dark, bgr=False)),
        "guide": mixed_guide(dark, sigma, bgr=False),
        "size": size,
        "window": (y, x),
        "targets": crop_targets(targets, y, x, d.crop),
    }


class DetectionBatches(torch.utils.data.Dataset):
    """Detection batches of one epoch: batch ``step`` depends only on (seed, epoch, step)."""

    def __init__(
        self, images: list[LabelledImage], targets: list[np.ndarray], cfg: TrainConfig, epoch: int, steps: int
    ):
        self.images, self.targets, self.cfg, self.epoch, self.steps = images, targets, cfg, epoch, steps

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, step: int) -> list[dict[str, Any]]:
        rng = np.random.default_rng([self.cfg.seed, self.epoch, step, 1])
        picks = rng.integers(len(self.images), size=self.cfg.detect.batch_size)
        return [detection_example(self.images[i], self.targets[i], self.cfg, rng) for i in picks]


def _as_is(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return batch  # numpy arrays stay numpy arrays (the default would make tensors of them)


def _single_thread_worker(_: int) -> None:
    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def enhanced_crop(
    model: NoiseAwareDCE, example: dict[str, Any], crop: int, device: torch.device
) -> tuple[torch.Tensor, float]:
    """(the detector's view of the enhanced frame, 3×crop×crop scaled like the detector and padded with grey;
    the mean blend weight over the frame)."""
    dark = torch.from_numpy(example["dark"]).permute(2, 0, 1)[None].float().to(device) / 255
    full = tuple(dark.shape[-2:])
    low = torch.from_numpy(example["low"]).permute(2, 0, 1)[None].to(device)
    sigma = torch.tensor([example["sigma"]], device=device)
    maps = model.full_maps(low, sigma, full)
    guide = upsample_guide(torch.from_numpy(example["guide"]).permute(2, 0, 1)[None].to(device), full)
    y, x = example["window"]
    if example["size"] == full:  # the detector sees the frame as it is: enhance only the crop
        window = (..., slice(y, y + crop), slice(x, x + crop))
        view = apply_denoise_curves(dark[window], guide[window], maps[window], model.iterations)
    else:
        enhanced = apply_denoise_curves(dark, guide, maps, model.iterations)
        view = F.interpolate(enhanced, size=example["size"], mode="bilinear", align_corners=False)
        view = view[..., y : y + crop, x : x + crop]
    h, w = view.shape[-2:]
    return F.pad(view, (0, crop - w, 0, crop - h), value=PAD)[0], float(maps[:, 3].detach().mean())


# --- the step ---------------------------------------------------------------------------------------------------


def darken_looks(x: torch.Tensor, ratio_range: list[float], rng: np.random.Generator) -> torch.Tensor:
    """Look images N×3×S×S (8-bit exact) with their light divided by a ratio from ``ratio_range``, without noise."""
    if ratio_range[1] <= 1:
        return x
    frames = (x * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    dark = [darken(f, NoiseRegime("look", math.exp(rng.uniform(*np.log(ratio_range)))), rng) for f in frames]
    return torch.from_numpy(np.stack(dark)).permute(0, 3, 1, 2).to(x) / 255


def make_step(cfg: TrainConfig, device: torch.device, run_dir: Path, progress: bool = True):
    """Step function of both stages: look batches always, detection batches from stage 2."""
    teacher = load_teacher(cfg, device)
    detector = FrozenDetector(resolve_path(cfg.detect.detector), device)
    det_loss = DetectionTargetLoss(detector)
    images, to_detector = detection_images(cfg.detect)
    # one cache for every run in out_dir: entries are keyed by detector, settings and image content
    cache = run_dir.parent / "clean_targets.json"
    targets = build_targets(images, to_detector, detector, cfg.detect, cache, progress)
    weights = {"tv": cfg.loss.tv, "spa": cfg.loss.spa, "col": cfg.loss.col, "exp": cfg.loss.exp}
    dist = cfg.distill
    state: dict[str, Any] = {"epoch": None}

    def detection_batch(epoch: int) -> list[dict[str, Any]]:
        if state.get("loader_epoch") != epoch:  # a new epoch: its own seeded batches, from its first step
            loader = torch.utils.data.DataLoader(
                DetectionBatches(images, targets, cfg, epoch, 1 << 20),
                batch_size=None,
                num_workers=cfg.detect.workers,
                worker_init_fn=_single_thread_worker,
                collate_fn=_as_is,
            )
            state.update(loader_epoch=epoch, batches=iter(loader))
        return next(state["batches"])

    def step(model: NoiseAwareDCE, x: torch.Tensor, epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        # steps are counted within the epoch: a resumed run starts at an epoch's first step, as the engine does
        state["step"] = state["step"] + 1 if state["epoch"] == epoch else 0
        state["epoch"] = epoch
        parts = dict.fromkeys(PARTS, 0.0)
        x = darken_looks(x, cfg.detect.look_ratio_range, np.random.default_rng([cfg.seed, epoch, state["step"], 2]))
        out, maps = model.enhance_with_maps(x)  # as the runtime computes them
        with torch.no_grad():
            _, _, t_full = curves_two_resolutions(teacher, x)
            t_out = apply_curves(x, t_full, teacher.iterations)
        kd, kd_parts = output_distillation(out, t_out, dist)
        task, _ = zero_reference_loss(
            out, x, maps[:, :3], weights, cfg.loss.exposure_patch, cfg.loss.exposure_target, cfg.loss.spa_pool
        )
        total = kd + dist.task * task
        parts.update(kd_parts, task=float(task.detach()), w_look=float(maps[:, 3].mean().detach()))
        if epoch >= dist.stage1_epochs:
            batch = detection_batch(epoch)
            views, blend = zip(*(enhanced_crop(model, e, cfg.detect.crop, device) for e in batch), strict=True)
            loss, det_parts = det_loss(detector(torch.stack(views)), [torch.from_numpy(e["targets"]) for e in batch])
            total = total + cfg.detect.weight * loss
            parts.update(det=float(loss.detach()), **det_parts)
            parts.update(w_det=float(np.mean(blend)), sigma_det=float(np.mean([e["sigma"] for e in batch])))
        return total, parts

    return step


def train_detection_aware(cfg: TrainConfig, resume: bool = False, command: str = "", progress: bool = True) -> Path:
    """Train cfg.model (noise_aware_dce) with the look and detection losses; returns the run directory."""
    if cfg.mode != "detection_aware":
        raise ValueError(f"config {cfg.name!r} has mode {cfg.mode!r}, not 'detection_aware'")
    device = pick_device(cfg.device)
    torch.set_num_threads(cfg.threads)
    stage1 = cfg.distill.stage1_epochs
    return run_training(
        cfg,
        make_step(cfg, device, cfg.run_dir(), progress),
        stage_of_epoch=lambda epoch: 1 if epoch < stage1 else 2,
        gamma_in_epoch=lambda epoch: False,
        resume=resume,
        command=command,
        progress=progress,
    )
