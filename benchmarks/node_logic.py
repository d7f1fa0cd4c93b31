"""The enhancer node's logic (llie_ros.processing, llie_core.stream; no rclpy) under load: overhead, memory.

Frames are 1080p (or other) real low-light photos wrapped in ROS 2 sensor_msgs/Image messages built with
rosbags' message classes; everything runs on one thread.

``overhead``: times in the same run the enhancer alone on the decoded frame and the node core from message
in to Image and EnhancementStats out; overhead = difference of the medians.
``memory``: 10,000 frames through the engine, then through the node core; after a warm-up RSS is sampled
every ``--every`` frames, and the run passes when the largest sample is within 5% of the first.

    python benchmarks/node_logic.py overhead [--model tiny_dce] [--frames 100] [--resolutions 640x480,1920x1080]
    python benchmarks/node_logic.py memory [--model tiny_dce] [--frames 10000] [--resolution 1920x1080]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from llie_core import create_enhancer
from llie_core.bag.io import IMAGE_TYPE, STATS_TYPE, header, typestore
from llie_core.bench import RESOLUTIONS, bench_frames, rss_mib, set_threads
from llie_core.imgmsg import array_to_image_fields
from llie_core.stream import FixedModel, StreamProcessor, StreamSettings
from llie_ros.processing import EnhancerCore, MsgTypes, Publishers

WARMUP = 200


def node_core(enhancer: Any, smoothing: float, publish: Callable[[Any], None]) -> EnhancerCore:
    """The enhancer node's core around ``enhancer``, gating off (every frame is enhanced), no worker thread."""
    types = MsgTypes(image=typestore().types[IMAGE_TYPE], stats=typestore().types[STATS_TYPE])
    settings = StreamSettings(smoothing=smoothing, auto_gate=False)
    return EnhancerCore(
        StreamProcessor(FixedModel(enhancer), settings), types, Publishers(image=publish, stats=publish)
    )


def image_messages(frames: list[np.ndarray]) -> list[Any]:
    """bgr8 sensor_msgs/Image messages of the frames, stamped 0, 1, 2, ... s."""
    image_cls = typestore().types[IMAGE_TYPE]
    return [image_cls(**array_to_image_fields(f, "bgr8", header(i * 10**9, "cam"))) for i, f in enumerate(frames)]


def overhead(model: str, resolution: str, count: int, smoothing: float) -> dict:
    """Median/p95 of the enhancer alone and of the node core per frame, in milliseconds."""
    frames, source = bench_frames(*RESOLUTIONS[resolution], count)
    messages = image_messages(frames)
    enhancer = create_enhancer(model, threads=1)
    published: list[Any] = []
    core = node_core(enhancer, smoothing, published.append)

    def node(i: int) -> None:
        core.offer(messages[i])  # no worker thread: offer() processes and publishes synchronously

    def alone(i: int) -> None:
        enhancer.enhance(frames[i])

    times: dict[str, list[float]] = {"alone": [], "node": []}
    for i in range(min(3, count)):  # warm-up: compile, caches
        node(i)
        alone(i)
    for i in range(count):
        # interleaved, and in turns first, so load changes and warm caches favour neither
        order = (("node", node), ("alone", alone)) if i % 2 else (("alone", alone), ("node", node))
        for key, fn in order:
            start = time.perf_counter()
            fn(i)
            times[key].append((time.perf_counter() - start) * 1e3)
    assert core.stats.failed == 0 and len(published) == 2 * (count + min(3, count))
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "model": model,
        "resolution": resolution,
        "smoothing": smoothing,
        "frames": count,
        "source": source,
        "enhance_median_ms": round(med["alone"], 3),
        "node_median_ms": round(med["node"], 3),
        "node_p95_ms": round(float(np.percentile(times["node"], 95)), 3),
        "overhead_ms": round(med["node"] - med["alone"], 3),
    }


def run_overhead(args: argparse.Namespace) -> int:
    """Print a table of node overhead per resolution and smoothing setting; write JSON."""
    rows = [
        overhead(args.model, res, args.frames, smoothing)
        for res in args.resolutions.split(",")
        for smoothing in (0.0, 0.6)
    ]
    print(f"frames: {rows[0]['source']}; one thread; {args.model}")
    head = ("resolution", "smoothing", "enhance ms", "node ms", "node p95", "overhead ms")
    print("  ".join(f"{h:>11}" for h in head))
    for r in rows:
        values = (r["enhance_median_ms"], r["node_median_ms"], r["node_p95_ms"], r["overhead_ms"])
        print(f"{r['resolution']:>11}  {r['smoothing']:>11}  " + "  ".join(f"{v:>11.2f}" for v in values))
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "node_overhead.json").write_text(json.dumps(rows, indent=2))
    print(f"wrote {args.output / 'node_overhead.json'}")
    return 0


def track(label: str, step: Callable[[int], Any], frames: int, every: int) -> dict:
    """Run ``step(i)`` for i < frames after a warm-up; RSS (MiB) every ``every`` frames."""
    for i in range(WARMUP):
        step(i)
    samples: list[tuple[int, float]] = []
    for i in tqdm(range(frames), desc=label, unit="frame"):
        step(i)
        if i % every == 0 or i == frames - 1:
            samples.append((i + 1, rss_mib()[0]))
    first, peak = samples[0][1], max(s[1] for s in samples)
    return {
        "label": label,
        "frames": frames,
        "rss_first_mib": round(first, 1),
        "rss_last_mib": round(samples[-1][1], 1),
        "rss_max_mib": round(peak, 1),
        "growth_pct": round(100 * (peak - first) / first, 2),
        "samples": samples,
    }


def run_memory(args: argparse.Namespace) -> int:
    """Run both loops, print the figures, write JSON and PNG; exit 1 if RSS grew by more than 5%."""
    frames, source = bench_frames(*RESOLUTIONS[args.resolution], 50)
    enhancer = create_enhancer(args.model, threads=1)
    results = [track("engine", lambda i: enhancer.enhance(frames[i % len(frames)]), args.frames, args.every)]

    messages = image_messages(frames)
    sink: list[Any] = []

    def publish(msg: Any) -> None:
        sink.append(msg)
        del sink[:-4]  # a subscriber keeps only the latest few, as a ROS publisher queue would

    core = node_core(enhancer, 0.6, publish)
    results.append(track("node logic", lambda i: core.offer(messages[i % len(messages)]), args.frames, args.every))
    assert core.stats.failed == 0

    print(f"{args.model} at {args.resolution}, frames from {source}, one thread")
    for r in results:
        print(
            f"{r['label']:>10}: RSS first {r['rss_first_mib']} MiB, last {r['rss_last_mib']} MiB, "
            f"max {r['rss_max_mib']} MiB over {r['frames']} frames: growth {r['growth_pct']}%"
        )
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "memory.json").write_text(json.dumps(results, indent=2))
    _plot(results, args.output / "memory.png")
    print(f"wrote {args.output / 'memory.json'} and {args.output / 'memory.png'}")
    return 0 if all(r["growth_pct"] <= 5 for r in results) else 1


def _plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for r in results:
        xs, ys = np.array(r["samples"]).T
        ax.plot(xs, ys, label=r["label"])
    ax.set_xlabel("frame")
    ax.set_ylabel("RSS (MiB)")
    ax.set_ylim(bottom=0)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    """``overhead`` or ``memory``; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    over = sub.add_parser("overhead", help="node time beyond the enhancement itself")
    over.add_argument("--frames", type=int, default=100)
    over.add_argument("--resolutions", default="640x480,1920x1080")
    over.set_defaults(func=run_overhead)
    mem = sub.add_parser("memory", help="RSS over a long run through the engine and the node core")
    mem.add_argument("--frames", type=int, default=10_000)
    mem.add_argument("--every", type=int, default=250)
    mem.add_argument("--resolution", default="1920x1080", choices=list(RESOLUTIONS))
    mem.set_defaults(func=run_memory)
    for p in (over, mem):
        p.add_argument("--model", default="tiny_dce")
        p.add_argument("-o", "--output", type=Path, default=Path("bench_out"))
    args = parser.parse_args()
    set_threads(1)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
