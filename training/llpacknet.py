"""RAW training (mode raw): LLPackNet on synthetic dark RAW frames made from sRGB training images.

Per crop (``synthesize``): a random camera (Brooks et al. 2019, ``noise.random_processing``) unprocesses the clean
sRGB crop to linear camera RGB; the light is divided by a ratio (log-uniform in ``raw.ratio_range``), an RGGB
mosaic is sensed with Poisson shot noise, Gaussian read and row noise in electrons and an ADC of 12 or 14 bits
(``noise.expose``); the network input is that mosaic, black-subtracted, normalised and amplified by ratio × jitter
(the amplification error of an estimate, log-uniform in ``raw.jitter_range``); the target is the clean crop rendered
by the same camera at the input's exposure, ``process(clip(camera × jitter))``: the clean image itself when the
jitter is 1, brighter or darker as the amplification says otherwise. So the network learns noise removal and the
camera's rendering (white balance, colour matrix, tone curve), while the brightness follows the amplification it
is given, estimated or explicit (``llie_core.amplification``). Loss: L1 on sRGB, as SID and LLPackNet.

Training images are the configured folder's (SICE part 1), restricted to mean sRGB brightness in ``raw.mean_range``:
the folder holds exposure brackets, whose darkest frames would leave nothing above the noise after ÷300. With
``raw.domain_root`` (a fine-tune to the deployment domain, e.g. highway_dev's road frames) every batch also takes
``raw.domain_share`` of its crops from that folder's training part (``domain_images``: never its held-out part, and
not the ``raw.domain_validation`` images kept to choose the weights on), each frame auto-exposed first as the
references of ``llie eval raw`` are (``amplification.auto_expose``: what an auto-exposing camera with enough light
gives).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from llie_core.amplification import auto_expose
from llie_core.bayer import normalise, rggb_planes
from llie_core.detect_eval import load_dataset, split_names
from llie_core.models import create_model
from llie_core.models.checkpoints import load_weights
from llie_core.models.llpacknet import TOPOLOGIES, LLPackNet
from llie_core.noise import NoiseRegime, expose, mosaic, process, random_processing, unprocess
from llie_core.registry import resolve_weights
from training.config import RawConfig, TrainConfig, resolve_path
from training.engine import PatchSampler, StepFn, list_images, run_training


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def synthesize(clean: np.ndarray, rng: np.random.Generator, raw: RawConfig) -> tuple[np.ndarray, np.ndarray]:
    """A clean H×W×3 sRGB crop in [0, 1] (even sides) → (4×H/2×W/2 float32 input planes, 3×H×W float32 target)."""
    processing = random_processing(rng)
    camera = unprocess(clean, processing)
    # the share's draw only when it is set, so configs without it keep their random streams
    low = raw.low_ratio_share > 0 and rng.uniform() < raw.low_ratio_share
    ratio = _log_uniform(rng, *(raw.low_ratio_range if low else raw.ratio_range))
    jitter = _log_uniform(rng, *raw.jitter_range)
    bits = int(rng.choice(raw.bit_depths))
    regime = NoiseRegime(
        "train",
        ratio,
        full_well=_log_uniform(rng, *raw.full_well_range),
        read_sigma=float(rng.uniform(*raw.read_sigma_range)),
        row_sigma=float(rng.uniform(*raw.row_sigma_range)),
        bit_depth=bits,
    )
    black, white = 64 << (bits - 10), (1 << bits) - 1
    codes = expose(mosaic(camera, "RGGB") / ratio, regime, rng, black, white)
    planes = rggb_planes(normalise(codes, black, white, ratio * jitter))
    target = process(np.clip(camera * jitter, 0.0, 1.0), processing)
    return planes, np.ascontiguousarray(target.transpose(2, 0, 1), dtype=np.float32)


def mean_brightness(path: Path) -> float:
    """Mean sRGB value in [0, 1] of an image file (on a 4× subsample)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read image {path}")
    return float(image[::4, ::4].mean()) / 255.0


def training_images(cfg: TrainConfig, progress: bool = True) -> list[Path]:
    """The configured folder's images whose mean sRGB brightness is in ``raw.mean_range``."""
    low, high = cfg.raw.mean_range
    files = list_images(cfg.data.root, cfg.data.limit)
    bar = tqdm(files, desc="selecting training images", unit="image", disable=not progress, mininterval=5.0)
    kept = [f for f in bar if low <= mean_brightness(f) <= high]
    if not kept:
        raise ValueError(f"no image of {cfg.data.root} has a mean brightness in {cfg.raw.mean_range}")
    return kept


def domain_images(raw: RawConfig) -> tuple[list[Path], list[Path]]:
    """(training, validation) images of ``raw.domain_root``'s training part (``split_names``; never its held-out
    part): ``split_names`` again keeps ``raw.domain_validation`` of them out, a fixed choice by file name."""
    dataset = load_dataset(resolve_path(raw.domain_root), part="train")
    if not dataset.labelled:
        raise ValueError(f"raw.domain_root {raw.domain_root} is not a labelled folder: it has no held-out split")
    files = {item.path.name: item.path for item in dataset.images}
    if raw.domain_validation == 0:
        return list(files.values()), []
    split = split_names(list(files), raw.domain_validation)
    return [files[n] for n in split.train], [files[n] for n in split.eval]


class RawPairSampler(PatchSampler):
    """The training images' seeded crops (PatchSampler) turned into synthetic RAW input/target pairs.

    ``domain``: images appended after ``files``, auto-exposed when read; each batch then takes
    ``raw.domain_share`` of its crops from them (each once per epoch) and the rest from a fresh draw of ``files``.
    """

    def __init__(self, files: list[Path], cfg: TrainConfig, domain: list[Path] | None = None) -> None:
        super().__init__(files + (domain or []), cfg)
        self.first_domain = len(files)

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        """Image indices of each batch; a function of (seed, epoch) only, so resume is exact."""
        domain_count = len(self.files) - self.first_domain
        if domain_count == 0:
            return super().epoch_batches(epoch)
        rng = np.random.default_rng([self.cfg.seed, epoch, 0])
        size = self.cfg.batch_size
        per_batch = min(size, max(1, round(size * self.cfg.raw.domain_share)))
        domain = self.first_domain + rng.permutation(domain_count)
        count = max(1, domain_count // per_batch)
        others = np.resize(rng.permutation(self.first_domain), count * (size - per_batch))
        batches = [
            [
                *domain[i * per_batch : (i + 1) * per_batch],
                *others[i * (size - per_batch) : (i + 1) * (size - per_batch)],
            ]
            for i in range(count)
        ]
        cap = self.cfg.max_iterations_per_epoch
        return [[int(i) for i in b] for b in (batches[:cap] if cap > 0 else batches)]

    def read(self, index: int) -> np.ndarray:
        """The image; a domain image auto-exposed, as the references it is evaluated against are."""
        rgb = super().read(index)
        return auto_expose(rgb) if index >= self.first_domain else rgb

    def load_batch(self, indices: list[int], epoch: int, step: int, gamma: bool = True) -> dict[str, torch.Tensor]:
        """{"planes": N×4×S/2×S/2 amplified RGGB planes, "target": N×3×S×S sRGB}; a function of (seed, epoch, step)."""
        clean = super().load_batch(indices, epoch, step, gamma=False)
        rng = np.random.default_rng([self.cfg.seed, epoch, step + 1, 7])
        pairs = [synthesize(c.permute(1, 2, 0).double().numpy(), rng, self.cfg.raw) for c in clean]
        return {
            "planes": torch.from_numpy(np.stack([p for p, _ in pairs])),
            "target": torch.from_numpy(np.stack([t for _, t in pairs])),
        }


def _target_loss(out: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """L1 between the network's sRGB and the target; PSNR of the batch for the log."""
    loss = F.l1_loss(out, target)
    with torch.no_grad():
        mse = F.mse_loss(out.clamp(0, 1), target)
    return loss, {"l1": float(loss.detach()), "psnr": float(-10 * torch.log10(mse))}


def step(model: LLPackNet, batch: dict[str, torch.Tensor], epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
    """L1 between the network's sRGB and the target; PSNR of the batch for the log."""
    return _target_loss(model(batch["planes"]), batch["target"])


def distillation_step(teacher: LLPackNet, kd: float) -> StepFn:
    """``step`` plus kd · L1 between the network's sRGB and the frozen ``teacher``'s on the same input."""

    def distill(model: LLPackNet, batch: dict[str, torch.Tensor], epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        out = model(batch["planes"])
        loss, parts = _target_loss(out, batch["target"])
        with torch.no_grad():
            guide = teacher(batch["planes"])
        kd_l1 = F.l1_loss(out, guide)
        return loss + kd * kd_l1, {**parts, "kd_l1": float(kd_l1.detach())}

    return distill


def _dense_channels(inputs: int, growth: int, teacher_growth: int, layers: int) -> list[int]:
    """The teacher's channel of each input channel of a dense layer: the block input, then the first ``growth`` of
    each earlier layer's ``teacher_growth`` outputs."""
    return list(range(inputs)) + [inputs + i * teacher_growth + r for i in range(layers) for r in range(growth)]


def init_from(student: LLPackNet, teacher: LLPackNet) -> None:
    """Copy ``teacher``'s weights into a lighter ``student`` wherever its layers coincide.

    The first k layers of a dense block see the same inputs in both (their first output channels when the
    student's growth is smaller), so they are copied; each 1×1 fusion keeps the columns of the inputs the student
    still has. The fused features then differ from the teacher's only by the layers left out.
    """
    with torch.no_grad():
        student.per_colour.load_state_dict(teacher.per_colour.state_dict())
        student.merge.load_state_dict(teacher.merge.state_dict())
        student.to_rgb.load_state_dict(teacher.to_rgb.state_dict())
        student.fuse.weight.copy_(teacher.fuse.weight[:, : student.fuse.weight.shape[1]])
        pairs = [*zip(student.blocks, teacher.blocks, strict=False), (student.fine, teacher.fine)]
        for ours, theirs in pairs:
            inputs = theirs.dense[0].weight.shape[1]
            growth, their_growth = ours.dense[0].weight.shape[0], theirs.dense[0].weight.shape[0]
            for i, (conv, source) in enumerate(zip(ours.dense, theirs.dense, strict=False)):
                keep = _dense_channels(inputs, growth, their_growth, i)
                conv.weight.copy_(source.weight[:growth, keep])
            keep = _dense_channels(inputs, growth, their_growth, len(ours.dense))
            ours.fuse.weight.copy_(theirs.fuse.weight[:, keep])


def train_raw(cfg: TrainConfig, resume: bool = False, command: str = "", progress: bool = True) -> Path:
    """Train a RAW model (LLPackNet, or a lighter topology distilled from it) on synthetic RAW pairs; the run dir."""
    if cfg.mode != "raw":
        raise ValueError(f"config {cfg.name!r} has mode {cfg.mode!r}, not 'raw'")
    torch.manual_seed(cfg.seed)
    model = LLPackNet(**TOPOLOGIES[cfg.model], spec_name=cfg.model)
    step_fn = step
    if cfg.raw.teacher:
        teacher = create_model(cfg.raw.teacher)  # its shipped weights
        for p in teacher.parameters():
            p.requires_grad_(False)
        if not cfg.init_weights:
            init_from(model, teacher)
        step_fn = distillation_step(teacher, cfg.raw.kd)
    if cfg.init_weights:  # a fine-tune: start from these weights (path, or the shipped ones)
        load_weights(model, resolve_weights(cfg.model, cfg.init_weights))
    domain = domain_images(cfg.raw)[0] if cfg.raw.domain_root else []
    sampler = RawPairSampler(training_images(cfg, progress), cfg, domain)
    return run_training(cfg, step_fn, resume=resume, command=command, progress=progress, model=model, sampler=sampler)
