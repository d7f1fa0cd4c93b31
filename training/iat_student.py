"""Distillation of llie's IAT student from a frozen IAT teacher, trained for the low-resolution estimate.

The IAT teacher is slow on a CPU (0.4 s per 256² image, one thread), so it runs once: ``build_cache``
stores, per training image (the whole image, area-resized to ``data.image_size`` square), the input,
the teacher's output, its pre-colour image y = x·mul + add and its [gamma, M]. Training then reads
only the cache.

Each batch draws one estimation scale factor s from ``iat.scales``: the student estimates its maps and
globals on the batch downscaled by s (bilinear, as the model's forward and the engine do) and they are
applied at full resolution (maps upsampled bilinearly). Against the teacher at full resolution:

    out_l1·L1(out) + out_ssim·(1 − SSIM(out)) + feature·L1(y) + gamma·MSE(γ) + matrix·MSE(M)

where y compares the two networks' images before the colour transform and gamma (the teacher's
maps themselves are not compared: the teacher carries image detail in its add map, which would not
survive upsampling; y does not depend on how it is split between mul and add).

The output target (of L1 and SSIM) can mix in a second look: a fraction ``iat.look`` of a shipped model's
output (``iat.look_model``, llie's zero_dce_pp) on the same full-resolution image, computed on the fly (a
curve model estimated at ``iat.look_scale`` costs little beside the student). Imitating the teacher alone
reproduces its faults: on frames that are only dim (input mean 0.1-0.4) the LOL-v2 teacher lays a flat
grey veil over the image (highlights compressed, blacks lifted), which NIQE scores as unnatural; the curve
model keeps their contrast. y and the globals stay the teacher's. A further fraction ``iat.look_detail`` adds
only the look's detail: its difference from the teacher's output minus that difference's Gaussian blur (σ =
``iat.look_sigma`` × the longer side). PSNR to the teacher is decided by brightness and colour, which the blur
keeps the teacher's; NIQE judges local structure (contrast normalised by the local mean), where the teacher's
output is smoother than the curve model's.

The engine's split is judged against the same student at s = 1 on camera frames (1080p), where the
estimator would see pixel neighbourhoods far smoother than any 256² training image. The consistency
term simulates that: a crop of size/u of a few batch images is upsampled by u to size², and the
student's output with its estimate at s = 1 is compared (L1, gradients through both) with its output
estimated at s = u, i.e. on roughly the original crop. It costs one size² image at s = 1 per image.

Over-exposed inputs: the LOL-v2 teacher turns them into a flat grey-green image (input mean 0.9 →
output mean 0.4, std 0.1 on SICE). Between input means ``iat.identity_blend`` = [lo, hi] the targets
are blended from the teacher's to the identity (out = y = x, gamma 1, M = I), so a frame that is
already bright passes through instead of being greyed.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
import yaml
from tqdm import tqdm

from llie_core.curves import estimation_size
from llie_core.losses import gaussian_1d, ssim
from llie_core.models import apply_maps, create_model
from llie_core.models.iat import pre_colour
from llie_core.models.iat_student import BoundedIATStudent
from llie_core.registry import resolve_weights
from training.config import TrainConfig, resolve_path
from training.engine import PatchSampler, list_images, read_rgb, run_training, sha256_of

PARTS = ("out_l1", "out_ssim", "feature", "gamma", "matrix", "consistency")
ARRAYS = ("inputs", "outputs", "features", "globals")


def cache_folder(cfg: TrainConfig, files: list[Path], teacher_path: Path) -> Path:
    """Where the teacher cache of this config lives: keyed by teacher file, image size and image count."""
    tag = f"{cfg.iat.teacher}_{sha256_of(teacher_path)[:12]}_{cfg.data.image_size}px_{len(files)}"
    return resolve_path(cfg.iat.cache_dir) / tag


def _load_square(path: Path, size: int) -> np.ndarray:
    rgb = read_rgb(path)
    # INTER_AREA: an honest downscale, like the frames the model will see.
    return cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)


def build_cache(cfg: TrainConfig, progress: bool = True) -> Path:
    """Run the teacher over every training image once (resumable); returns the cache folder."""
    files = list_images(cfg.data.root, cfg.data.limit)
    teacher_path = resolve_weights(cfg.iat.teacher, cfg.iat.teacher_weights)
    if teacher_path is None or not teacher_path.is_file():
        raise FileNotFoundError(f"teacher weights {cfg.iat.teacher_weights!r} not found (resolved to {teacher_path})")
    folder = cache_folder(cfg, files, teacher_path)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "teacher": cfg.iat.teacher,
        "teacher_weights": cfg.iat.teacher_weights,
        "teacher_sha256": sha256_of(teacher_path),
        "image_size": cfg.data.image_size,
        "files": [str(f) for f in files],
    }
    meta_path = folder / "meta.yaml"
    if meta_path.is_file() and yaml.safe_load(meta_path.read_text()) != meta:
        raise ValueError(f"teacher cache {folder} was built for other settings; delete it to rebuild")
    meta_path.write_text(yaml.safe_dump(meta, sort_keys=False))
    n, size = len(files), cfg.data.image_size
    shapes = {
        "inputs": ((n, 3, size, size), np.uint8),
        "outputs": ((n, 3, size, size), np.float16),
        "features": ((n, 3, size, size), np.float16),
        "globals": ((n, 10), np.float32),
        "done": ((n,), np.bool_),
    }
    arrays = {}
    for name, (shape, dtype) in shapes.items():
        path = folder / f"{name}.npy"
        mode = "r+" if path.is_file() else "w+"
        arrays[name] = np.lib.format.open_memmap(path, mode=mode, dtype=dtype, shape=shape)
    todo = np.flatnonzero(~arrays["done"])
    if len(todo):
        start = time.perf_counter()
        torch.set_num_threads(cfg.threads)
        teacher = create_model(cfg.iat.teacher, weights=teacher_path, scale_factor=1)
        bar = tqdm(
            todo,
            desc=f"teacher {cfg.iat.teacher} ({cfg.iat.teacher_weights})",
            disable=not progress,
            mininterval=5.0,
            file=sys.stderr,
        )
        for i in bar:
            rgb = _load_square(files[i], size)
            x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None].float() / 255.0
            with torch.inference_mode():
                out, maps, params = teacher.enhance_with_maps(x)
            arrays["inputs"][i] = rgb.transpose(2, 0, 1)
            arrays["outputs"][i] = out[0].numpy()
            arrays["features"][i] = (x * maps[:, :3] + maps[:, 3:])[0].numpy()
            arrays["globals"][i] = params[0].numpy()
            arrays["done"][i] = True
            if i % 50 == 0:
                for a in arrays.values():
                    a.flush()
        for a in arrays.values():
            a.flush()
        timing_path = folder / "timing.yaml"
        timing = yaml.safe_load(timing_path.read_text()) if timing_path.is_file() else {"images": 0, "wall_time_s": 0.0}
        timing = {
            "images": timing["images"] + len(todo),
            "wall_time_s": round(timing["wall_time_s"] + time.perf_counter() - start, 1),
            "threads": cfg.threads,
        }
        timing_path.write_text(yaml.safe_dump(timing, sort_keys=False))
    return folder


def identity_weight(x: torch.Tensor, blend: list[float]) -> torch.Tensor:
    """Per image (N×1×1×1): 0 below input mean blend[0] (teacher targets), 1 above blend[1] (identity), linear."""
    lo, hi = blend
    return ((x.mean(dim=(1, 2, 3), keepdim=True) - lo) / (hi - lo)).clamp(0, 1)


class CachedTargets(PatchSampler):
    """Whole cached training images with the teacher's targets (blended to identity for over-exposed inputs)."""

    def __init__(self, files: list[Path], cfg: TrainConfig, folder: Path) -> None:
        super().__init__(files, cfg)
        self.arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in ARRAYS}
        done = np.load(folder / "done.npy")
        if not done.all():
            raise ValueError(f"teacher cache {folder} is incomplete ({int(done.sum())}/{len(done)}): rebuild it")
        weights = np.asarray(cfg.iat.scale_weights, dtype=np.float64)
        self.scale_probs = weights / weights.sum()

    def load_batch(self, indices: list[int], epoch: int, step: int, gamma: bool = True) -> dict:
        """Targets {"x", "out", "y", "params"}, "scale": s, "crop": (u, top, left); draws follow (seed, epoch, step)."""
        rng = np.random.default_rng([self.cfg.seed, epoch, step + 1])
        scale = int(rng.choice(self.cfg.iat.scales, p=self.scale_probs))
        crop = None
        if self.cfg.iat.consistency_scales:
            u = int(rng.choice(self.cfg.iat.consistency_scales))
            top, left = (
                int(v) for v in rng.integers(0, self.cfg.data.image_size - self.cfg.iat.consistency_size // u + 1, 2)
            )
            crop = (u, top, left)
        idx = sorted(indices)  # memmap reads in file order
        x = torch.from_numpy(self.arrays["inputs"][idx].astype(np.float32) / 255.0)
        out, y, params = (torch.from_numpy(self.arrays[k][idx].astype(np.float32)) for k in ARRAYS[1:])
        w = identity_weight(x, self.cfg.iat.identity_blend)
        identity = torch.tensor([1.0, 1, 0, 0, 0, 1, 0, 0, 0, 1])
        params = (1 - w[:, :, 0, 0]) * params + w[:, :, 0, 0] * identity
        targets = {"out": (1 - w) * out + w * x, "y": (1 - w) * y + w * x, "params": params}
        return {"x": x, **targets, "scale": scale, "crop": crop}


def split_forward(model: BoundedIATStudent, x: torch.Tensor, scale: int) -> tuple[torch.Tensor, ...]:
    """(output, y = x·mul + add, params) with maps and globals estimated at 1/scale and applied at full resolution."""
    low = x
    if scale > 1:
        low = F.interpolate(
            x, size=estimation_size(x.shape[-2], x.shape[-1], scale), mode="bilinear", align_corners=False
        )
    maps, params = model.estimate(low)
    if scale > 1:
        maps = F.interpolate(maps, size=x.shape[-2:], mode="bilinear", align_corners=False)
    return apply_maps(x, maps, params), pre_colour(x, maps), params


def upsampled_crop(x: torch.Tensor, crop: tuple[int, int, int], size: int) -> torch.Tensor:
    """The (size/u)² crop of x at (top, left), upsampled by u to size² (bilinear, sample centres)."""
    u, top, left = crop
    side = size // u
    patch = x[:, :, top : top + side, left : left + side]
    return F.interpolate(patch, size=(size, size), mode="bilinear", align_corners=False)


def high_pass(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """x minus its Gaussian blur (σ in pixels, borders reflected): the detail finer than about σ."""
    size = 2 * math.ceil(3 * sigma) + 1
    c, pad = x.shape[1], size // 2
    g = gaussian_1d(size, sigma, x)
    blurred = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    blurred = F.conv2d(blurred, g.view(1, 1, size, 1).expand(c, 1, size, 1), groups=c)
    blurred = F.conv2d(blurred, g.view(1, 1, 1, size).expand(c, 1, 1, size), groups=c)
    return x - blurred


def look_model(cfg: TrainConfig) -> torch.nn.Module | None:
    """The frozen model whose output is mixed into the output target (shipped weights); None when it has no share."""
    if cfg.iat.look <= 0 and cfg.iat.look_detail <= 0:
        return None
    model = create_model(cfg.iat.look_model, scale_factor=cfg.iat.look_scale)
    return model.requires_grad_(False)


def make_step(cfg: TrainConfig):
    """Step function: the weighted terms of the module docstring at the batch's scale factor."""
    c = cfg.iat
    look = look_model(cfg)

    def step(model: BoundedIATStudent, batch: dict, epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        x, scale = batch["x"], batch["scale"]
        out, y, params = split_forward(model, x, scale)
        target = batch["out"]
        if look is not None:
            with torch.no_grad():
                # blended to the identity over bright inputs, as the teacher's targets are (load_batch)
                w = identity_weight(x, c.identity_blend)
                look_out = (1 - w) * look(x).clamp(0, 1) + w * x
                teacher_out = target
                target = (1 - c.look) * teacher_out + c.look * look_out
                if c.look_detail > 0:
                    sigma = c.look_sigma * max(x.shape[-2:])
                    target = target + c.look_detail * high_pass(look_out - teacher_out, sigma)
        parts = {
            "out_l1": (out - target).abs().mean(),
            "out_ssim": 1 - ssim(out, target),
            "feature": (y - batch["y"]).abs().mean(),
            "gamma": F.mse_loss(params[:, 0], batch["params"][:, 0]),
            "matrix": F.mse_loss(params[:, 1:], batch["params"][:, 1:]),
            "consistency": out.new_zeros(()),
        }
        if c.consistency > 0 and batch["crop"] is not None:
            fine = upsampled_crop(x[: c.consistency_images], batch["crop"], c.consistency_size)
            u = batch["crop"][0]
            parts["consistency"] = (split_forward(model, fine, 1)[0] - split_forward(model, fine, u)[0]).abs().mean()
        total = sum(getattr(c, k) * v for k, v in parts.items())
        logged = {k: float(v.detach()) for k, v in parts.items()}
        logged["scale"] = float(scale)
        return total, logged

    return step


def build_student(cfg: TrainConfig) -> BoundedIATStudent:
    """The student to train, seeded (``init_weights`` when given)."""
    torch.manual_seed(cfg.seed)
    model = BoundedIATStudent(scale_factor=1)
    if cfg.init_weights:
        from llie_core.models.checkpoints import load_weights

        load_weights(model, resolve_weights(cfg.model, cfg.init_weights))
    return model


def train_iat_distill(cfg: TrainConfig, resume: bool = False, command: str = "", progress: bool = True) -> Path:
    """Cache the teacher's targets (once), then distil the student; returns the run directory."""
    if cfg.mode != "iat_distill":
        raise ValueError(f"config {cfg.name!r} has mode {cfg.mode!r}, not 'iat_distill'")
    folder = build_cache(cfg, progress)
    sampler = CachedTargets(list_images(cfg.data.root, cfg.data.limit), cfg, folder)
    return run_training(
        cfg,
        make_step(cfg),
        resume=resume,
        command=command,
        progress=progress,
        model=build_student(cfg),
        sampler=sampler,
    )
