"""Training configuration: YAML validated against dataclasses (an unknown or misspelt key is an error)."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]


MODES = ("zero_reference", "distill", "detection_aware", "iat_distill", "sgz", "raw")


class ConfigError(ValueError):
    """A training configuration that is malformed: unknown key, wrong type or bad value."""


@dataclass
class DataConfig:
    """Where the training images come from and how they are sampled and augmented."""

    root: str = "../shared/data/train/sice_part1_512"  # relative paths resolve against the repository root
    image_size: int = 128  # side of the square training patch
    images_per_epoch: int = 0  # 0 = every image each epoch; else a fresh seeded random subset per epoch
    min_crop_fraction: float = 0.6  # random crop side in [fraction, 1] of the shorter side, then resize
    hflip: bool = True
    gamma_range: list[float] = field(default_factory=lambda: [1.0, 1.0])  # random gamma on inputs (TinyDCE: .5–1.5)
    limit: int = 0  # use only the first N files (sorted), 0 = all; for smoke tests


@dataclass
class OptimConfig:
    """Adam with weight decay, gradient-norm clipping and a constant or cosine learning rate."""

    lr: float = 1e-4
    weight_decay: float = 1e-4
    grad_clip: float = 0.1  # max gradient norm; 0 disables
    schedule: str = "constant"  # "constant" or "cosine" (per iteration, down to lr_min)
    lr_min: float = 1e-7


@dataclass
class LossConfig:
    """Weights and settings of the zero-reference task losses."""

    tv: float = 1600.0
    spa: float = 1.0
    col: float = 5.0
    exp: float = 10.0
    exposure_patch: int = 16
    exposure_target: float = 0.6
    spa_pool: int = 4  # region size of the spatial-consistency loss
    spa_neighbours: int = 4  # 4 (Zero-DCE) or 8 (SGZ: the diagonals too, weighted 0.5)


@dataclass
class DistillConfig:
    """Knowledge distillation from a frozen teacher, in two stages (TinyDCE's schedule)."""

    teacher: str = "zero_dce_pp"
    teacher_weights: str = "llie_core/weights/zero_dce_pp.pth"  # a path, or "reference" for the published one
    stage1_epochs: int = 2  # task-only warm-up: multi-region exposure + TV, with gamma augmentation
    stage1_exposure: float = 7.0
    stage1_tv: float = 200.0
    stage1_patches: list[int] = field(default_factory=lambda: [8, 16, 32])
    kd: float = 0.7  # weight of the output KD term: MSE + ssim·(1 − SSIM)
    kd_ssim: float = 0.05
    feature: float = 0.2  # weight of the curve-map term: MSE of the effective curve maps
    task: float = 0.1  # weight of the zero-reference task losses (LossConfig weights)


@dataclass
class DetectConfig:
    """Detection-aware training (mode "detection_aware"): a frozen detector as a task loss on dark noisy frames.

    Clean images are darkened with the sensor noise model (llie_core.noise) at regimes drawn from the ranges below
    (light ÷ ratio, electrons at full scale log-uniform, read noise), half of them through a random camera (Brooks et
    al. unprocessing); the detector's raw predictions on the enhanced frame are trained towards the targets.
    """

    detector: str = "../shared/models/detect/yolov8n.pt"  # any ultralytics detection model file (.pt)
    images: str = "../shared/data/detect/highway_dev"  # YOLO layout (images/, labels/) or a plain folder of images
    part: str = "train"  # of a labelled set: "train" (split_names' training part) or "all"; never the held-out part
    max_images: int = 0  # use only the first N (sorted), 0 = all
    targets: str = "auto"  # "auto": labels where they exist (+ the detector's other classes), else detections
    target_conf: float = 0.25  # clean-frame detections kept as targets
    imgsz: int = 640  # the detector's input size at deployment: frames are scaled to it (never up) before cropping
    crop: int = 320  # side of the square crop the detector sees while training (multiple of 32)
    batch_size: int = 8
    weight: float = 1.0  # of the detection loss (box + cls + dfl, ultralytics' gains), per image
    ratio_range: list[float] = field(default_factory=lambda: [8.0, 24.0])  # light divided by (log-uniform)
    full_well_range: list[float] = field(default_factory=lambda: [300.0, 20000.0])  # e⁻ at full scale (log-uniform)
    read_sigma_range: list[float] = field(default_factory=lambda: [0.5, 3.0])  # read noise in e⁻ (uniform)
    clean_fraction: float = 0.15  # frames with quantisation noise only
    random_camera_fraction: float = 0.5  # frames through a random camera (Brooks et al.), the rest plain sRGB
    workers: int = 1  # processes that prepare detection batches (darkening is the costly part)
    # look images darkened by a ratio drawn from this range (log-uniform), without noise: [1, 1] uses them as they
    # are (low-light sets such as SICE); e.g. [8, 24] makes dark frames of one's own clean daytime images
    look_ratio_range: list[float] = field(default_factory=lambda: [1.0, 1.0])


@dataclass
class IATDistillConfig:
    """Distillation of the IAT student from a frozen IAT teacher, for the low-resolution estimate (mode iat_distill).

    The teacher runs once per training image (``data.image_size`` square, whole image) and its output,
    its pre-colour image y = x·mul + add and its [gamma, M] are cached under ``cache_dir``.
    """

    teacher: str = "iat"
    teacher_weights: str = "reference:lol_v2"  # a path, or "reference[:VARIANT]"
    cache_dir: str = "runs/cache"  # relative paths resolve against the repository root
    scales: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 12])  # estimation scale factors, one per batch
    scale_weights: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0, 1.0, 1.0])  # their probabilities
    out_l1: float = 1.0  # L1 of the full-resolution output against the teacher's
    out_ssim: float = 0.2  # weight of 1 − SSIM of the same
    feature: float = 0.5  # L1 of y = x·mul + add (maps upsampled to full resolution) against the teacher's
    gamma: float = 0.1  # MSE of gamma
    matrix: float = 0.1  # MSE of the colour matrix entries
    consistency: float = 0.0  # L1 between the student's own outputs at s = 1 and s = u on upsampled crops
    consistency_scales: list[int] = field(default_factory=lambda: [2, 4, 8])  # u: upsampling = estimation scale
    consistency_size: int = 128  # side of the upsampled crop
    consistency_images: int = 4  # images of the batch it uses
    identity_blend: list[float] = field(default_factory=lambda: [0.6, 0.8])  # input mean range: teacher → identity
    # fraction of a shipped model's output (look_model, estimated at look_scale on the data.image_size training
    # images) mixed into the output target of out_l1 and out_ssim; 0: the teacher's alone
    look: float = 0.0
    look_model: str = "zero_dce_pp"
    look_scale: int = 6
    # fraction of the look's detail added on top: its output's difference from the teacher's target high-passed
    # (minus a Gaussian blur of sigma look_sigma x the image's longer side), so the teacher keeps the brightness and
    # colour and the look lends its local contrast; 0: none
    look_detail: float = 0.0
    look_sigma: float = 0.01
    default_scale_factor: int = 8  # what the shipped weights' card sets: the engine's default estimation scale
    # ... or its floor, when the card also sets the estimator's longest side (the scale then grows with the frame);
    # 0: the card sets none
    max_estimation_side: int = 0


@dataclass
class SemanticConfig:
    """SGZ's semantic guidance: a frozen detector's focal loss on the enhanced image, and dark road views for it."""

    detector: str = "../shared/models/detect/yolov8n.pt"  # any ultralytics detection .pt
    weight: float = 0.1  # of the semantic focal loss
    gamma: float = 2.0  # focal exponent
    weighted: bool = True  # anchors weighted by their detached confidence (training/task_loss.py)
    # Optional second source: the TRAINING part of a labelled detection folder (never its held-out part),
    # darkened with the sensor noise model; this many views of each batch come from it (0 = none).
    dark_root: str = ""
    dark_per_batch: int = 0
    dark_regimes: list[str] = field(default_factory=lambda: ["none", "moderate", "heavy"])
    dark_crop: list[float] = field(default_factory=lambda: [1.0, 1.5])  # crop side ÷ image_size, then resize
    # 0: dark views are crops resized to data.image_size, in the batch with the SICE views (every loss, the training
    # scale). N > 0: they are whole frames area-resized to N×N and enhanced at dark_scale, as the engine runs the
    # model on a camera frame, so the guide judges what it will see at test; they carry the semantic loss only.
    dark_size: int = 0
    dark_scale: int = 12
    dark_weight: float = -1.0  # of the semantic loss on those whole frames; < 0: the same as ``weight``
    # Whole frames darkened with one of these regimes carry no semantic loss: their output is distilled towards the
    # frozen teacher's (``distill``: teacher, teacher_weights, kd·(MSE + kd_ssim·(1 − SSIM))) on the same frame at
    # dark_scale, so the regime where the dark frame loses nothing keeps the teacher's look while the others are judged
    # by the detector.
    distill_regimes: list[str] = field(default_factory=list)
    # > 0: the SICE views' output at look_scale is also distilled towards the frozen teacher's on the same views,
    # look_kd·(MSE + distill.kd_ssim·(1 − SSIM)), so that photos keep the teacher's look while road frames are judged
    # by the detector. look_scale 4 on the 128 px views gives the estimator a ~32 px thumbnail of 60-100% of a 512 px
    # photo, about what it sees of the whole photo at s = 12 (43 px); the other losses stay at scale_factor.
    look_kd: float = 0.0
    look_scale: int = 1
    # Pseudo-labels of the whole frames' focal loss: "enhanced" (SGZ: the guide's argmax on the enhanced frame) or
    # "clean" (its argmax and confidence on the same frame before darkening; still no labels).
    dark_targets: str = "enhanced"


@dataclass
class RawConfig:
    """Synthetic RAW training pairs (mode raw): training images unprocessed, darkened and sensed (llie_core.noise).

    Each crop gets its own random camera (Brooks et al.), ratio, sensor and amplification error; the input is
    the RGGB mosaic amplified by ratio × jitter and the target the clean crop rendered by that camera at the same
    exposure (the clean image itself when the jitter is 1).
    """

    ratio_range: list[float] = field(default_factory=lambda: [50.0, 300.0])  # light ÷ ratio, log-uniform
    jitter_range: list[float] = field(default_factory=lambda: [0.7, 1.4])  # amplification error, log-uniform
    full_well_range: list[float] = field(default_factory=lambda: [4000.0, 100000.0])  # e⁻ at full scale, log-uniform
    read_sigma_range: list[float] = field(default_factory=lambda: [1.0, 4.0])  # e⁻, uniform
    row_sigma_range: list[float] = field(default_factory=lambda: [0.0, 0.3])  # e⁻, uniform
    bit_depths: list[int] = field(default_factory=lambda: [12, 14])  # ADC depth, uniform choice
    mean_range: list[float] = field(default_factory=lambda: [0.15, 0.8])  # images kept: mean sRGB in this range
    # share of crops whose ratio comes from low_ratio_range instead of ratio_range (0: none): weights the low ratios
    low_ratio_share: float = 0.0
    low_ratio_range: list[float] = field(default_factory=lambda: [50.0, 150.0])  # log-uniform
    # Optional images of the deployment domain: the TRAINING part of a labelled detection folder (split_names; never
    # its held-out part), auto-exposed as llie eval raw's references are, mixed into every batch at domain_share.
    # Of that part, domain_validation images (split_names again: a fixed choice by name) are kept out of training,
    # to choose the weights on (python -m training.publish eval raw_validation).
    domain_root: str = ""
    domain_share: float = 0.5  # of every batch; an epoch then takes each domain training image once
    domain_validation: int = 50
    # Distillation of a lighter topology (llpacknet_fast) from a trained one: teacher is a RAW model name (its
    # shipped weights; empty: none), the loss L1 to the clean target + kd · L1 to the teacher's output. With a
    # teacher and no init_weights the student starts from the teacher's weights wherever its layers coincide
    # (training.llpacknet.init_from).
    teacher: str = ""
    kd: float = 1.0


@dataclass
class TrainConfig:
    """One training run: model, data, optimisation, losses, and where the outputs go."""

    name: str
    model: str  # zero_dce, zero_dce_pp, tiny_dce (zero_reference, distill), sgz (sgz); noise_aware_dce
    # (detection_aware); iat_student (iat_distill); llpacknet (raw)
    mode: str = "zero_reference"  # "zero_reference", "distill", "detection_aware", "iat_distill", "sgz" or "raw"
    seed: int = 0
    epochs: int = 10
    batch_size: int = 8
    scale_factor: int = 1  # curve-estimation downscale used while training
    device: str = "auto"  # "auto" (cuda if present), "cpu" or "cuda"
    threads: int = 1  # torch CPU threads
    num_workers: int = 0  # data-loading worker processes
    out_dir: str = "runs"  # the run goes to out_dir/name
    log_every: int = 1  # iterations between loss-log rows
    max_iterations_per_epoch: int = 0  # 0 = no cap; for smoke tests
    init_weights: str = ""  # optional starting weights (path or "reference"); empty = from scratch
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    detect: DetectConfig = field(default_factory=DetectConfig)
    iat: IATDistillConfig = field(default_factory=IATDistillConfig)
    semantic: SemanticConfig = field(default_factory=SemanticConfig)
    raw: RawConfig = field(default_factory=RawConfig)

    def run_dir(self) -> Path:
        """Directory of this run's outputs (relative out_dir resolves against the repository root)."""
        return resolve_path(self.out_dir) / self.name

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict of every setting (what is written next to the run's outputs)."""
        return dataclasses.asdict(self)


def resolve_path(path: str | Path) -> Path:
    """A config path: absolute as is, relative against the repository root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else REPO_ROOT / p


def _check_type(where: str, value: Any, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if origin is list:
        (item,) = typing.get_args(annotation)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_check_type(f"{where}[{i}]", v, item) for i, v in enumerate(value)]
    if dataclasses.is_dataclass(annotation):
        return _from_dict(annotation, value, where)
    raise ConfigError(f"{where}: unsupported annotation {annotation}")


def _from_dict(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; valid keys: {sorted(fields)}")
    kwargs = {}
    for name, f in fields.items():
        key = f"{where}.{name}" if where else name
        if name in data:
            kwargs[name] = _check_type(key, data[name], hints[name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{key}: required key is missing")
    return cls(**kwargs)


def _validate(cfg: TrainConfig) -> None:
    from llie_core.registry import get_spec

    try:
        spec = get_spec(cfg.model)
    except ValueError as exc:
        raise ConfigError(f"model: {exc}") from None
    if spec.kind not in ("curve", "denoise_curve", "iat", "raw"):
        raise ConfigError(f"model: {cfg.model!r} is not a trainable network")
    detection_aware = cfg.mode == "detection_aware"
    d = cfg.detect
    checks = [
        (cfg.mode in MODES, f"mode must be one of {', '.join(repr(m) for m in MODES)}"),
        (
            detection_aware == (spec.kind == "denoise_curve"),
            "mode 'detection_aware' trains noise_aware_dce, and noise_aware_dce trains only in that mode",
        ),
        ((spec.kind == "iat") == (cfg.mode == "iat_distill"), "mode iat_distill trains IAT models, and only it does"),
        ((spec.kind == "raw") == (cfg.mode == "raw"), "mode raw trains RAW models (llpacknet), and only it does"),
        (cfg.device in ("auto", "cpu", "cuda"), "device must be 'auto', 'cpu' or 'cuda'"),
        (cfg.optim.schedule in ("constant", "cosine"), "optim.schedule must be 'constant' or 'cosine'"),
        (cfg.epochs >= 1, "epochs must be >= 1"),
        (cfg.batch_size >= 1, "batch_size must be >= 1"),
        (cfg.scale_factor >= 1, "scale_factor must be >= 1"),
        (cfg.threads >= 1, "threads must be >= 1"),
        (cfg.log_every >= 1, "log_every must be >= 1"),
        (cfg.data.image_size >= 16, "data.image_size must be >= 16"),
        (0 < cfg.data.min_crop_fraction <= 1, "data.min_crop_fraction must be in (0, 1]"),
        (len(cfg.data.gamma_range) == 2, "data.gamma_range must be [low, high]"),
        (cfg.optim.lr > 0, "optim.lr must be > 0"),
        (cfg.loss.exposure_patch >= 1, "loss.exposure_patch must be >= 1"),
        (cfg.loss.spa_pool >= 1, "loss.spa_pool must be >= 1"),
        (
            cfg.mode in ("zero_reference", "iat_distill", "sgz", "raw") or cfg.distill.stage1_epochs < cfg.epochs,
            "distill.stage1_epochs must be < epochs",
        ),
        (cfg.loss.spa_neighbours in (4, 8), "loss.spa_neighbours must be 4 or 8"),
        (cfg.semantic.gamma >= 0, "semantic.gamma must be >= 0"),
        (0 <= cfg.semantic.dark_per_batch <= cfg.batch_size, "semantic.dark_per_batch must be in 0..batch_size"),
        (cfg.semantic.dark_per_batch == 0 or bool(cfg.semantic.dark_root), "semantic.dark_root is needed"),
        (
            len(cfg.semantic.dark_crop) == 2 and 0 < cfg.semantic.dark_crop[0] <= cfg.semantic.dark_crop[1],
            "semantic.dark_crop must be [low, high] with 0 < low <= high",
        ),
        (cfg.mode != "sgz" or cfg.data.image_size % 32 == 0, "data.image_size must be a multiple of 32 for sgz"),
        (cfg.semantic.dark_size >= 0 and cfg.semantic.dark_size % 32 == 0, "semantic.dark_size must be 0 or k×32"),
        (cfg.semantic.dark_scale >= 1, "semantic.dark_scale must be >= 1"),
        (cfg.semantic.look_kd >= 0 and cfg.semantic.look_scale >= 1, "semantic.look_kd >= 0, look_scale >= 1"),
        (cfg.semantic.dark_targets in ("enhanced", "clean"), "semantic.dark_targets must be 'enhanced' or 'clean'"),
        (
            not (cfg.semantic.distill_regimes or cfg.semantic.dark_targets == "clean") or cfg.semantic.dark_size > 0,
            "semantic.distill_regimes and dark_targets 'clean' need whole dark frames (semantic.dark_size > 0)",
        ),
        (
            set(cfg.semantic.distill_regimes) <= set(cfg.semantic.dark_regimes),
            "semantic.distill_regimes must be among semantic.dark_regimes",
        ),
        (bool(cfg.name) and "/" not in cfg.name, "name must be a non-empty file name"),
        (d.part in ("train", "all"), "detect.part must be 'train' or 'all' (the held-out part is never trained on)"),
        (d.targets in ("auto", "labels", "detections"), "detect.targets must be 'auto', 'labels' or 'detections'"),
        (d.crop >= 32 and d.crop % 32 == 0, "detect.crop must be a positive multiple of 32"),
        (d.imgsz >= 32, "detect.imgsz must be >= 32"),
        (d.batch_size >= 1, "detect.batch_size must be >= 1"),
        (0 <= d.target_conf <= 1, "detect.target_conf must be in [0, 1]"),
        (_range(d.ratio_range, 1.0), "detect.ratio_range must be [low, high] with 1 <= low <= high"),
        (_range(d.look_ratio_range, 1.0), "detect.look_ratio_range must be [low, high] with 1 <= low <= high"),
        (_range(d.full_well_range, 1e-9), "detect.full_well_range must be [low, high] with 0 < low <= high"),
        (_range(d.read_sigma_range, 0.0), "detect.read_sigma_range must be [low, high] with 0 <= low <= high"),
        (0 <= d.clean_fraction <= 1, "detect.clean_fraction must be in [0, 1]"),
        (0 <= d.random_camera_fraction <= 1, "detect.random_camera_fraction must be in [0, 1]"),
        (d.workers >= 0, "detect.workers must be >= 0"),
    ]
    if cfg.mode == "iat_distill":
        iat = cfg.iat
        checks += [
            (bool(iat.scales) and all(s >= 1 for s in iat.scales), "iat.scales must be integers >= 1"),
            (len(iat.scale_weights) == len(iat.scales), "iat.scale_weights must give one weight per scale"),
            (all(w >= 0 for w in iat.scale_weights) and sum(iat.scale_weights) > 0, "iat.scale_weights must be >= 0"),
            (
                all(u >= 2 and iat.consistency_size % u == 0 for u in iat.consistency_scales),
                "iat.consistency_scales must be >= 2 and divide iat.consistency_size",
            ),
            (iat.consistency_size <= cfg.data.image_size, "iat.consistency_size must be <= data.image_size"),
            (0 <= iat.look <= 1, "iat.look must be in [0, 1]"),
            (iat.look_scale >= 1, "iat.look_scale must be >= 1"),
            (0 <= iat.look_detail <= 1, "iat.look_detail must be in [0, 1]"),
            (0 < iat.look_sigma <= 0.1, "iat.look_sigma must be in (0, 0.1] (a fraction of the longer side)"),
            (iat.default_scale_factor >= 1, "iat.default_scale_factor must be >= 1"),
            (iat.max_estimation_side >= 0, "iat.max_estimation_side must be >= 0 (0: none)"),
            (
                len(iat.identity_blend) == 2 and iat.identity_blend[0] < iat.identity_blend[1],
                "iat.identity_blend must be [lo, hi] with lo < hi",
            ),
        ]
    if cfg.mode == "raw":
        raw = cfg.raw
        ranges = (
            raw.ratio_range,
            raw.low_ratio_range,
            raw.jitter_range,
            raw.full_well_range,
            raw.read_sigma_range,
            raw.row_sigma_range,
        )
        checks += [
            (cfg.data.image_size % 16 == 0, "data.image_size must be a multiple of 16 for RAW models"),
            (all(len(r) == 2 and 0 <= r[0] <= r[1] for r in ranges), "raw.*_range must be [lo, hi], 0 <= lo <= hi"),
            (
                min(raw.ratio_range[0], raw.low_ratio_range[0]) >= 1 and raw.jitter_range[0] > 0,
                "raw.ratio_range and raw.low_ratio_range must be >= 1, jitter_range > 0",
            ),
            (0.0 <= raw.low_ratio_share <= 1.0, "raw.low_ratio_share must be in [0, 1]"),
            (0.0 < raw.domain_share <= 1.0, "raw.domain_share must be in (0, 1]"),
            (raw.domain_validation >= 0, "raw.domain_validation must be >= 0"),
            (
                not raw.domain_root or cfg.data.images_per_epoch == 0,
                "data.images_per_epoch must be 0 with raw.domain_root (an epoch is the domain images once)",
            ),
            (raw.full_well_range[0] > 0, "raw.full_well_range must be > 0"),
            (bool(raw.bit_depths) and all(10 <= b <= 16 for b in raw.bit_depths), "raw.bit_depths must be in 10..16"),
            (len(raw.mean_range) == 2 and raw.mean_range[0] < raw.mean_range[1], "raw.mean_range must be [lo, hi]"),
        ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


def _range(values: list[float], low: float) -> bool:
    return len(values) == 2 and low <= values[0] <= values[1]


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """Build and validate a TrainConfig from a nested dict (as read from YAML)."""
    cfg = _from_dict(TrainConfig, data, "")
    _validate(cfg)
    return cfg


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a YAML config; ``overrides`` maps dotted keys (``optim.lr``) to values applied on top."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: top level must be a mapping")
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    try:
        return config_from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
