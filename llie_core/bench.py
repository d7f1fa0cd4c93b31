"""Latency benchmarks of the enhancers, with a frame-copy and a torch-eager baseline in the same run.

Networks are also timed in their two parts (the estimate at low resolution, the compiled apply at full
resolution), and a distilled student is compared with its teacher when both run (``TEACHERS``). Slow
configurations (the IAT models at full resolution take seconds per 1080p frame) stop timing after a time
budget, with at least ``MIN_FRAMES`` frames. RAW models (``takes_raw``) are timed on RAW mosaics made of
the same frames (``bench_raw_frames``); their two parts are the metered amplification and the rest. The
noise-aware model's time depends on the frame's noise sigma (its guide mix, ``kernels.GUIDE_MIX``): it gets extra
rows on noisy frames (``bench_noisy_frames``, ``NOISY_REGIMES``), each with the frames' sigma and guide mix.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from llie_core.bayer import RawFrame
from llie_core.engine.estimate import frame_noise_sigma
from llie_core.kernels import guide_mix
from llie_core.noise import REGIMES, NoiseRegime, darken, keyed_rng, random_processing, to_raw
from llie_core.registry import shared_dir
from llie_core.synthetic import night_scene

CAMERA_RESOLUTIONS = {
    "640x480": (640, 480),
    "1280x720": (1280, 720),
    "1920x1080": (1920, 1080),
    "3840x2160": (3840, 2160),
}
# 256x256 and 600x400: the sizes of the golden pairs and of the IAT papers' speed figures
RESOLUTIONS = {"256x256": (256, 256), "600x400": (600, 400), **CAMERA_RESOLUTIONS, "4256x2848": (4256, 2848)}
# student → the teacher it was distilled from: their speed ratio is reported when both are benched
TEACHERS = {"iat_student": "iat", "tiny_dce": "zero_dce_pp"}
MIN_FRAMES = 3
# Noisy frames for the noise-aware model, one row each: on the first bench frame (a real low-light photo, noise
# sigma about 0.15: guide mix t = 0, the box mean alone) the heavy regime gives sigma about 5.6 (t about
# 0.5: the box mean and the coarse guide, the slowest band), 150 e⁻ at full scale about 10 (t = 1: the coarse guide).
NOISY_REGIMES = {
    r.name: r for r in (REGIMES["heavy"], NoiseRegime("very_heavy", 16.0, full_well=150.0, read_sigma=2.0))
}
# noise draws per noisy row, cycled over its frames: darkening a 1080p frame takes about 0.7 s; 8 of them (48 MB at
# 1080p) are more than the cache holds, as distinct frames are
NOISY_DRAWS = 8


@dataclass
class BenchRow:
    """One configuration's figures (times in milliseconds, memory in MiB)."""

    model: str
    backend: str
    resolution: str
    threads: int
    scale_factor: int | None  # networks' estimation downscale at this resolution; None for classical methods
    frames: int
    median_ms: float
    p95_ms: float
    fps: float
    copy_ms: float
    ratio_to_copy: float
    torch_eager_ms: float | None
    speedup_vs_torch: float | None
    max_diff_vs_torch: int | None
    rss_mib: float
    peak_rss_mib: float
    weights: str
    estimate_ms: float | None = None  # networks: the estimate alone (downscale + estimator) ...
    apply_ms: float | None = None  # ... and the full-resolution apply pass alone
    load_average: float | None = None  # the machine's 1-minute load average when the row was timed
    # median CPU time of the process per frame (all its threads): on a machine whose cores are shared, the wall
    # time holds the waits for a core and this does not
    cpu_ms: float | None = None
    noise: str = ""  # the noise regime the frames were darkened with (NOISY_REGIMES); "": the bench frames
    noise_sigma: float | None = None  # noise-aware models: the frames' median noise sigma (8-bit codes) ...
    guide_mix: float | None = None  # ... and the guide mix t it gives (kernels.guide_mix)


def bench_frames(width: int, height: int, count: int) -> tuple[list[np.ndarray], str]:
    """``count`` BGR uint8 frames at width×height: real low-light photos when the shared folder has them."""
    folder = shared_dir() / "data" / "lowlight" / "zerodcepp_real"
    files = sorted(folder.glob("*.png")) if folder.is_dir() else []
    if files:
        frames = [cv2.resize(cv2.imread(str(f)), (width, height), interpolation=cv2.INTER_AREA) for f in files[:count]]
        while len(frames) < count:
            frames.append(frames[len(frames) % len(files)])
        return frames, str(folder)
    return [night_scene(height, width, seed=i) for i in range(count)], "generated night scenes"


def bench_raw_frames(width: int, height: int, count: int) -> tuple[list[RawFrame], str]:
    """``count`` RAW frames at width×height: ``bench_frames`` as 14-bit RGGB mosaics (light ÷8, SID-like noise)."""
    frames, source = bench_frames(width, height, count)
    regime = NoiseRegime("bench", 8.0, full_well=16000.0, read_sigma=3.0, bit_depth=14)
    raws = []
    for i, bgr in enumerate(frames):
        rng = np.random.default_rng(i)
        raws.append(to_raw(np.ascontiguousarray(bgr[:, :, ::-1]), regime, rng, random_processing(rng)))
    return raws, f"{source}, as RAW ({regime.describe()})"


def bench_noisy_frames(width: int, height: int, count: int, regime: NoiseRegime) -> tuple[list[np.ndarray], str]:
    """``count`` BGR uint8 frames at width×height: the first of ``bench_frames`` darkened with ``regime``
    (``noise.darken``, seeded), NOISY_DRAWS noise draws cycled."""
    frames, source = bench_frames(width, height, 1)
    rgb = np.ascontiguousarray(frames[0][:, :, ::-1])
    draws = [
        np.ascontiguousarray(darken(rgb, regime, keyed_rng(i, "bench", regime.name))[:, :, ::-1])
        for i in range(min(count, NOISY_DRAWS))
    ]
    return [draws[i % len(draws)] for i in range(count)], f"{source}, the first darkened ({regime.describe()})"


def time_per_frame(
    fn: Callable[[np.ndarray], object],
    frames: list[np.ndarray],
    warmup: int = 2,
    budget_s: float = float("inf"),
    cpu_ms: list[float] | None = None,
) -> list[float]:
    """Milliseconds of ``fn`` on each frame, after ``warmup`` untimed calls (``cpu_ms`` collects the CPU times).

    Stops once ``budget_s`` seconds have been timed and at least MIN_FRAMES frames; a warm-up call that takes a
    tenth of the budget is the only one.
    """
    for frame in frames[:warmup]:
        start = time.perf_counter()
        fn(frame)
        if time.perf_counter() - start > budget_s / 10:
            break
    times: list[float] = []
    for frame in frames:
        if len(times) >= MIN_FRAMES and sum(times) > budget_s * 1e3:
            break
        start, cpu_start = time.perf_counter(), time.process_time()
        fn(frame)
        times.append((time.perf_counter() - start) * 1e3)
        if cpu_ms is not None:
            cpu_ms.append((time.process_time() - cpu_start) * 1e3)
    return times


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MiB."""
    with open("/proc/self/statm") as f:
        current = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def set_threads(threads: int) -> None:
    """Limit the thread pools a run may use (OpenCV, torch when loaded)."""
    cv2.setNumThreads(threads)
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(threads)


def torch_eager(name: str, weights: str | Path, scale_factor: int) -> Callable[[np.ndarray], np.ndarray]:
    """The published way to run a model: BGR uint8 → RGB float tensor → module → uint8 BGR, all in torch."""
    import torch

    from llie_core.models import create_model

    model = create_model(name, weights=weights, scale_factor=scale_factor)

    def run(frame: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(frame[:, :, ::-1])).permute(2, 0, 1)[None].float() / 255
        with torch.inference_mode():
            y = model(x)
        return (y[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()[:, :, ::-1]

    return run


def torch_eager_raw(name: str, weights: str | Path) -> Callable[[RawFrame], np.ndarray]:
    """The published way to run a RAW model: normalise, amplify, pack RGGB planes, module, sRGB uint8 (BGR), in torch.

    The mosaic is mirrored to RGGB and padded as the engine does (numpy), the amplification metered the same way.
    """
    import torch

    from llie_core.amplification import estimate_amplification
    from llie_core.bayer import normalise, rggb_planes
    from llie_core.models import create_model
    from llie_core.raw_kernels import geometry

    model = create_model(name, weights=weights)

    def run(raw: RawFrame) -> np.ndarray:
        geo = geometry(*raw.shape, raw.pattern)
        height, width = geo.output_size
        pad = ((geo.dy, height - geo.height - geo.dy), (geo.dx, width - geo.width - geo.dx))
        mosaic = np.pad(raw.data, pad, mode="reflect")
        planes = rggb_planes(normalise(mosaic, raw.black_level, raw.white_level, estimate_amplification(raw)))
        with torch.inference_mode():
            y = model(torch.from_numpy(planes)[None])[0, :, geo.dy : geo.dy + geo.height, geo.dx : geo.dx + geo.width]
        return (y * 255 + 0.5).clamp(0, 255).byte().permute(1, 2, 0).numpy()[:, :, ::-1]

    return run


def bench_one(
    enhancer,
    weights_label: str,
    frames: list[np.ndarray],
    threads: int,
    copy_ms: float,
    eager: Callable[[np.ndarray], np.ndarray] | None,
    eager_frames: int,
    budget_s: float = float("inf"),
    noise: str = "",
) -> BenchRow:
    """Time one enhancer on the frames (a network also in its two parts) and compare it with the baselines.

    ``noise``: the regime the frames were darkened with, for the row. A noise-aware model's row also has the
    frames' median noise sigma and its guide mix.
    """
    sigma = mix = None
    if getattr(getattr(enhancer, "spec", None), "kind", None) == "denoise_curve":
        sigma = statistics.median(frame_noise_sigma(f, bgr=True) for f in frames)
        mix = guide_mix(sigma)
    cpu_ms: list[float] = []
    times = time_per_frame(enhancer.enhance, frames, budget_s=budget_s, cpu_ms=cpu_ms)
    median = statistics.median(times)
    estimate_ms = apply_ms = None
    if hasattr(enhancer, "estimate"):
        estimate_ms = statistics.median(time_per_frame(enhancer.estimate, frames, warmup=0, budget_s=budget_s))
        estimate = enhancer.estimate(frames[0])
        apply_ms = statistics.median(time_per_frame(lambda f: enhancer.apply(f, estimate), frames, warmup=1))
    eager_ms = diff = None
    if eager is not None:
        eager_ms = statistics.median(time_per_frame(eager, frames[:eager_frames], warmup=1, budget_s=budget_s))
        diff = int(np.abs(enhancer.enhance(frames[0]).astype(np.int32) - eager(frames[0])).max())
    current, peak = rss_mib()
    height, width = frames[0].shape[:2]  # a RawFrame's shape is its mosaic's
    return BenchRow(
        model=enhancer.name,
        backend=enhancer.backend,
        resolution=f"{width}x{height}",
        threads=threads,
        scale_factor=enhancer.scale_factor_for(height, width) if hasattr(enhancer, "scale_factor_for") else None,
        frames=len(times),
        median_ms=round(median, 3),
        p95_ms=round(float(np.percentile(times, 95)), 3),
        fps=round(1e3 / median, 1),
        copy_ms=round(copy_ms, 3),
        ratio_to_copy=round(median / copy_ms, 1),
        torch_eager_ms=None if eager_ms is None else round(eager_ms, 2),
        speedup_vs_torch=None if eager_ms is None else round(eager_ms / median, 1),
        max_diff_vs_torch=diff,
        rss_mib=round(current, 1),
        peak_rss_mib=round(peak, 1),
        weights=weights_label,
        estimate_ms=None if estimate_ms is None else round(estimate_ms, 3),
        apply_ms=None if apply_ms is None else round(apply_ms, 3),
        load_average=round(os.getloadavg()[0], 2),
        cpu_ms=round(statistics.median(cpu_ms), 3),
        noise=noise,
        noise_sigma=None if sigma is None else round(sigma, 2),
        guide_mix=None if mix is None else round(mix, 2),
    )


def speed_ratios(rows: list[BenchRow]) -> list[dict]:
    """Teacher over student median time for each student benched beside its teacher (same resolution, backend,
    threads): ``engine`` in llie's engine, ``torch_eager`` in the torch baseline (None without it)."""
    by_key = {(r.model, r.resolution, r.backend, r.threads, r.noise): r for r in rows}
    ratios = []
    for r in rows:
        teacher = by_key.get((TEACHERS.get(r.model), r.resolution, r.backend, r.threads, r.noise))
        if teacher is None:
            continue
        eager = None
        if r.torch_eager_ms and teacher.torch_eager_ms:
            eager = round(teacher.torch_eager_ms / r.torch_eager_ms, 2)
        ratios.append(
            {
                "student": r.model,
                "teacher": teacher.model,
                "resolution": r.resolution,
                "backend": r.backend,
                "threads": r.threads,
                "student_ms": r.median_ms,
                "teacher_ms": teacher.median_ms,
                "engine": round(teacher.median_ms / r.median_ms, 2),
                "torch_eager": eager,
            }
        )
    return ratios


def _table(head: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in [head, *lines]) for i in range(len(head))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in [head, *lines])


def ratios_table(ratios: list[dict]) -> str:
    """A fixed-width text table of ``speed_ratios``."""
    head = ["student : teacher", "resolution", "backend", "thr", "student ms", "teacher ms", "ratio", "torch ratio"]
    lines = [
        [
            f"{q['student']} : {q['teacher']}",
            q["resolution"],
            q["backend"],
            str(q["threads"]),
            f"{q['student_ms']:.2f}",
            f"{q['teacher_ms']:.2f}",
            f"{q['engine']:.2f}x",
            "-" if q["torch_eager"] is None else f"{q['torch_eager']:.2f}x",
        ]
        for q in ratios
    ]
    return _table(head, lines)


def noise_label(row: BenchRow) -> str:
    """The frames' noise for tables: regime, sigma and guide mix where measured ("-": the bench frames, no sigma)."""
    measured = "" if row.noise_sigma is None else f"{row.noise_sigma:.2f}, {row.guide_mix:.2f}"
    if row.noise and measured:
        return f"{row.noise} ({measured})"
    return row.noise or (f"({measured})" if measured else "-")


def rows_table(rows: list[BenchRow]) -> str:
    """A fixed-width text table of benchmark rows."""
    head = [
        "model",
        "noise (sigma, t)",
        "backend",
        "resolution",
        "thr",
        "s",
        "frames",
        "median ms",
        "p95 ms",
        "cpu ms",
        "fps",
        "estimate ms",
        "apply ms",
        "x copy",
        "torch ms",
        "speedup",
        "diff",
    ]
    lines = []
    for r in rows:
        lines.append(
            [
                r.model,
                noise_label(r),
                r.backend,
                r.resolution,
                str(r.threads),
                "-" if r.scale_factor is None else str(r.scale_factor),
                str(r.frames),
                f"{r.median_ms:.2f}",
                f"{r.p95_ms:.2f}",
                "-" if r.cpu_ms is None else f"{r.cpu_ms:.2f}",
                f"{r.fps:.1f}" if r.fps < 10 else f"{r.fps:.0f}",
                "-" if r.estimate_ms is None else f"{r.estimate_ms:.2f}",
                "-" if r.apply_ms is None else f"{r.apply_ms:.2f}",
                f"{r.ratio_to_copy:.1f}",
                "-" if r.torch_eager_ms is None else f"{r.torch_eager_ms:.1f}",
                "-" if r.speedup_vs_torch is None else f"{r.speedup_vs_torch:.1f}x",
                "-" if r.max_diff_vs_torch is None else str(r.max_diff_vs_torch),
            ]
        )
    return _table(head, lines)


def plot_rows(rows: list[BenchRow], path: Path) -> bool:
    """Bar chart of median latency per configuration (log scale) with the copy baseline; False without matplotlib."""
    if importlib.util.find_spec("matplotlib") is None:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    resolutions = list(dict.fromkeys(r.resolution for r in rows))
    fig, axes = plt.subplots(1, len(resolutions), figsize=(5 * len(resolutions), 4.5), squeeze=False)
    for ax, res in zip(axes[0], resolutions, strict=True):
        sel = [r for r in rows if r.resolution == res]
        labels = [f"{r.model}{' ' + r.noise if r.noise else ''}\n{r.backend} t{r.threads}" for r in sel]
        ax.bar(range(len(sel)), [r.median_ms for r in sel], color="tab:blue", label="median")
        ax.scatter(range(len(sel)), [r.torch_eager_ms or np.nan for r in sel], color="tab:red", label="torch eager")
        ax.axhline(sel[0].copy_ms, color="gray", ls="--", label="frame copy")
        ax.set_xticks(range(len(sel)), labels, rotation=60, fontsize=7)
        ax.set_yscale("log")
        ax.set_title(res)
        ax.set_ylabel("ms per frame")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def as_dicts(rows: list[BenchRow]) -> list[dict]:
    """Rows as JSON-ready dicts."""
    return [asdict(r) for r in rows]
