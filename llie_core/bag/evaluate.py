"""``llie bag eval``: run several models on a bag's image topic and measure speed, quality, flicker and detection."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from llie_core import imgmsg, metrics
from llie_core.bag.enhance import select_topics
from llie_core.bag.io import IMAGE_TYPE, open_reader
from llie_core.bag.quality import as_rgb, flicker, frame_quality, match_count

QUALITY_KEYS = ("brightness", "contrast", "entropy", "colourfulness")


@dataclass
class BagFrames:
    """Frames decoded from one image topic (BGR uint8), with their header stamps."""

    bag: Path
    topic: str
    frames: list[np.ndarray] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    error: str | None = None


def read_frames(path: Path, topic: str | None = None, max_frames: int | None = None) -> BagFrames:
    """Decode up to ``max_frames`` frames of ``topic`` (default: the first image topic) as BGR uint8."""
    reader = open_reader(path)
    try:
        conns = select_topics(reader, [topic] if topic else None)
        # Default: the first camera stream, not an enhanced stream written by ``llie bag enhance``.
        names = sorted({c.topic for c in conns}, key=lambda t: ("/enhanced/" in t or t.startswith("/enhanced"), t))
        chosen = topic or names[0]
        conns = [c for c in conns if c.topic == chosen]
        out = BagFrames(Path(path), chosen)
        messages = reader.messages(connections=conns)
        while max_frames is None or len(out.frames) < max_frames:
            try:
                conn, _, raw = next(messages)
            except StopIteration:
                break
            except Exception as exc:  # keep the frames read before the break
                out.error = f"{path}: reading stopped after {len(out.frames)} frames of {chosen}: {exc}"
                break
            try:
                msg = reader.deserialize(raw, conn.msgtype)
                decode = imgmsg.image_msg_to_array if conn.msgtype == IMAGE_TYPE else imgmsg.compressed_msg_to_array
                arr, enc = decode(msg)
                out.frames.append(imgmsg.convert_layout(arr, enc, "bgr8"))
                out.stamps.append(int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec))
            except Exception as exc:  # unsupported encoding or corrupt payload: counted
                out.skipped[str(exc).split(";")[0]] += 1
        return out
    finally:
        reader.close()


def _detection_summary(per_frame: list[list[Any]]) -> dict[str, Any]:
    found = [d for frame in per_frame for d in frame]
    return {
        "total": len(found),
        "per_class": dict(Counter(d.class_name for d in found).most_common()),
        "mean_confidence": float(np.mean([d.score for d in found])) if found else None,
    }


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def evaluate_frames(
    data: BagFrames,
    enhancers: dict[str, tuple[Any, str]],
    detector: Any = None,
    loe_frames: int = 20,
    thumbnails: int = 4,
    progress: bool = True,
) -> tuple[dict[str, Any], dict[str, list[np.ndarray]]]:
    """(results for report.json, thumbnails {"raw" | model: [BGR frames]}) for every model on ``data``."""
    frames = data.frames
    if not frames:
        raise ValueError(f"{data.bag}: no decodable frames on {data.topic}")
    n = len(frames)
    thumb_idx = sorted(set(np.linspace(0, n - 1, min(thumbnails, n)).round().astype(int).tolist()))
    loe_idx = set(np.linspace(0, n - 1, min(loe_frames, n)).round().astype(int).tolist())
    raw_rgb = [as_rgb(f) for f in frames]
    raw_quality = [frame_quality(f) for f in raw_rgb]
    raw_luma = [imgmsg.mean_luminance(f, "bgr8" if f.ndim == 3 else "mono8", stride=1) for f in frames]
    raw_dets = (
        [detector.detect(f) for f in tqdm(frames, desc="detect raw", unit="frame", disable=not progress)]
        if detector
        else None
    )
    results: dict[str, Any] = {
        "input": {
            "bag": str(data.bag),
            "topic": data.topic,
            "frames": n,
            "size": [int(frames[0].shape[1]), int(frames[0].shape[0])],
            "duration_s": (data.stamps[-1] - data.stamps[0]) / 1e9 if len(data.stamps) > 1 else 0.0,
            "skipped": dict(data.skipped),
            "read_error": data.error,
            "loe_frames": len(loe_idx),
        },
        "raw": {k: float(np.mean([q[k] for q in raw_quality])) for k in QUALITY_KEYS} | {"flicker": flicker(raw_luma)},
        "models": {},
        "series": {"stamps_ns": data.stamps[:n], "luma": {"raw": raw_luma}, "latency_ms": {}},
    }
    if raw_dets is not None:
        results["raw"]["detections"] = _detection_summary(raw_dets)
    thumbs: dict[str, list[np.ndarray]] = {"raw": [frames[i] for i in thumb_idx]}
    for name, (enhancer, weights) in enhancers.items():
        enhancer.enhance(frames[0])  # warm-up (lazy initialisation, caches) outside the timing
        times, luma, quality, loe, dets, thumbs[name] = [], [], [], [], [], []
        for i, frame in enumerate(tqdm(frames, desc=name, unit="frame", disable=not progress)):
            start = time.perf_counter()
            out = enhancer.enhance(frame)
            times.append((time.perf_counter() - start) * 1e3)
            rgb = as_rgb(out)
            luma.append(imgmsg.mean_luminance(out, "bgr8" if out.ndim == 3 else "mono8", stride=1))
            quality.append(frame_quality(rgb))
            if i in loe_idx:
                loe.append(metrics.lightness_order_error(raw_rgb[i], rgb))
            if i in thumb_idx:
                thumbs[name].append(out)
            if detector:
                dets.append(detector.detect(out))
        entry: dict[str, Any] = {
            "backend": str(enhancer.backend),
            "weights": weights,
            "latency_ms": {
                "median": statistics.median(times),
                "p95": _percentile(times, 95),
                "mean": float(np.mean(times)),
            },
            "throughput_fps": n / (sum(times) / 1e3) if sum(times) > 0 else float("inf"),
            "quality": {
                k: {"before": results["raw"][k], "after": float(np.mean([q[k] for q in quality]))} for k in QUALITY_KEYS
            },
            "loe": float(np.mean(loe)),
            "flicker": {
                "input": results["raw"]["flicker"],
                "output": flicker(luma),
                # > 1: the model adds frame-to-frame brightness change beyond the input's (which it also amplifies)
                "ratio": flicker(luma) / results["raw"]["flicker"] if results["raw"]["flicker"] > 0 else None,
            },
        }
        if raw_dets is not None:
            matched = sum(match_count(e, r) for e, r in zip(dets, raw_dets, strict=True))
            enh, raw = _detection_summary(dets), results["raw"]["detections"]
            entry["detections"] = {
                "raw": raw,
                "enhanced": enh,
                "matched": matched,  # same class, IoU >= 0.5, one-to-one per frame
                "enhanced_also_on_raw": matched / enh["total"] if enh["total"] else None,
                "raw_also_on_enhanced": matched / raw["total"] if raw["total"] else None,
                "only_on_enhanced": enh["total"] - matched,
                "only_on_raw": raw["total"] - matched,
            }
        results["models"][name] = entry
        results["series"]["luma"][name] = luma
        results["series"]["latency_ms"][name] = times
    return results, thumbs
