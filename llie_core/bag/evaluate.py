"""``llie bag eval``: run several models on a bag's image topic and measure speed, quality, flicker and detection.

Every model runs through llie_core.stream.StreamProcessor with the enhancer node's settings (gating included), once
without temporal smoothing and once with the settings' smoothing, so the report shows what the node would publish
and what its smoothing buys.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from llie_core import imgmsg, metrics
from llie_core.bag.enhance import select_topics
from llie_core.bag.io import CAMERA_INFO_TYPE, camera_info_topic, camera_topic, open_reader
from llie_core.bag.quality import (
    as_rgb,
    flicker,
    frame_quality,
    grid_luminance,
    local_flicker,
    local_relative_changes,
    match_count,
    relative_changes,
)
from llie_core.stream import FixedModel, LossCounter, StreamProcessor, StreamSettings

QUALITY_KEYS = ("brightness", "contrast", "entropy", "colourfulness")


@dataclass
class BagFrames:
    """Frames decoded from one image topic (in their working encodings), with their header stamps."""

    bag: Path
    topic: str
    frames: list[np.ndarray] = field(default_factory=list)
    encodings: list[str] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    lost: int = 0  # frames missing from the recording (stamp gaps, camera_info without its image)
    error: str | None = None

    def bgr(self, i: int, black: int = 0, white: int = 0) -> np.ndarray:
        """Frame ``i`` as BGR uint8 (quality metrics, detector, thumbnails); a Bayer mosaic demosaiced with these
        levels (``white`` 0: the encoding's full scale)."""
        if self.encodings[i] in imgmsg.BAYER_ENCODINGS:
            return imgmsg.bayer_to_bgr8(self.frames[i], self.encodings[i], black, white)
        return imgmsg.convert_layout(self.frames[i], self.encodings[i], "bgr8")


def read_frames(path: Path, topic: str | None = None, max_frames: int | None = None) -> BagFrames:
    """Decode up to ``max_frames`` frames of ``topic`` (default: the first image topic)."""
    reader = open_reader(path)
    try:
        conns = select_topics(reader, [topic] if topic else None)
        chosen = topic or camera_topic(c.topic for c in conns)
        conns = [c for c in conns if c.topic == chosen]
        infos = [
            c for c in reader.connections if c.topic == camera_info_topic(chosen) and c.msgtype == CAMERA_INFO_TYPE
        ]
        out = BagFrames(Path(path), chosen)
        loss = LossCounter()
        messages = reader.messages(connections=conns + infos)
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
                if conn.msgtype == CAMERA_INFO_TYPE:
                    loss.on_camera_info(imgmsg.stamp_ns(msg.header))
                    continue
                loss.on_image(imgmsg.stamp_ns(msg.header))
                arr, enc, _ = imgmsg.decode_msg(msg, mosaic=True)  # Bayer mosaics kept for RAW models
                out.frames.append(arr)
                out.encodings.append(enc)
                out.stamps.append(imgmsg.stamp_ns(msg.header))
            except Exception as exc:  # unsupported encoding or corrupt payload: counted
                out.skipped[str(exc).split(";")[0]] += 1
        out.lost = loss.lost
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


def latency_summary(times: list[float]) -> dict[str, float]:
    """Median, 95th percentile and mean of per-frame latencies (ms)."""
    return {
        "median": statistics.median(times),
        "p95": float(np.percentile(np.asarray(times), 95)) if times else float("nan"),
        "mean": float(np.mean(times)),
    }


def throughput(frames: int, times: list[float]) -> float:
    """Frames per second of enhancement time (``times`` in ms per frame)."""
    return frames / (sum(times) / 1e3) if sum(times) > 0 else float("inf")


def flicker_entry(raw: float, out: float) -> dict[str, float | None]:
    """Input and output flicker and their ratio (above 1: the model adds frame-to-frame brightness change)."""
    return {"input": raw, "output": out, "ratio": out / raw if raw > 0 else None}


def variants(name: str, settings: StreamSettings) -> dict[str, StreamSettings]:
    """Report rows of one model: without temporal smoothing, and with the settings' smoothing when it is on."""
    rows = {name: dataclasses.replace(settings, smoothing=0.0)}
    if settings.smoothing > 0:
        rows[f"{name} (smoothing {settings.smoothing:g})"] = settings
    return rows


def evaluate_frames(
    data: BagFrames,
    enhancers: dict[str, tuple[Any, str]],
    detector: Any = None,
    settings: StreamSettings | None = None,
    loe_frames: int = 20,
    thumbnails: int = 4,
    progress: bool = True,
) -> tuple[dict[str, Any], dict[str, list[np.ndarray]]]:
    """(results for report.json, thumbnails {"raw" | row: [BGR frames]}) for every model on ``data``.

    ``settings``: the enhancer node's per-frame parameters (default: the node's defaults); see ``variants``.
    """
    settings = settings or StreamSettings()
    frames = data.frames
    if not frames:
        raise ValueError(f"{data.bag}: no decodable frames on {data.topic}")
    n = len(frames)
    thumb_idx = sorted(set(np.linspace(0, n - 1, min(thumbnails, n)).round().astype(int).tolist()))
    loe_idx = set(np.linspace(0, n - 1, min(loe_frames, n)).round().astype(int).tolist())
    raw_rgb: dict[int, np.ndarray] = {}
    raw_quality, raw_luma, raw_grids, raw_dets = [], [], [], []
    levels = (settings.raw_black_level, settings.raw_white_level)
    for i in tqdm(range(n), desc="raw", unit="frame", disable=not progress):
        bgr = data.bgr(i, *levels)
        rgb = as_rgb(bgr)
        if i in loe_idx:
            raw_rgb[i] = rgb
        raw_quality.append(frame_quality(rgb))
        mosaic = data.encodings[i] in imgmsg.BAYER_ENCODINGS
        frame, encoding = (bgr, "bgr8") if mosaic else (frames[i], data.encodings[i])
        raw_luma.append(imgmsg.mean_luminance(frame, encoding, stride=1))
        raw_grids.append(grid_luminance(frame, encoding))
        if detector:
            raw_dets.append(detector.detect(bgr))
    results: dict[str, Any] = {
        "input": {
            "bag": str(data.bag),
            "topic": data.topic,
            "frames": n,
            "size": [int(frames[0].shape[1]), int(frames[0].shape[0])],
            "duration_s": (data.stamps[-1] - data.stamps[0]) / 1e9 if len(data.stamps) > 1 else 0.0,
            "skipped": dict(data.skipped),
            "lost": data.lost,
            "read_error": data.error,
            "loe_frames": len(loe_idx),
        },
        "settings": dataclasses.asdict(settings),
        "raw": {k: float(np.mean([q[k] for q in raw_quality])) for k in QUALITY_KEYS}
        | {"flicker": flicker(raw_luma), "local_flicker": local_flicker(raw_grids)},
        "models": {},
        "series": {
            "stamps_ns": data.stamps[:n],
            "luma": {"raw": raw_luma},
            "flicker": {"raw": relative_changes(raw_luma).tolist()},
            "local_flicker": {"raw": local_relative_changes(raw_grids).tolist()},
            "latency_ms": {},
        },
    }
    if detector:
        results["raw"]["detections"] = _detection_summary(raw_dets)
    thumbs: dict[str, list[np.ndarray]] = {"raw": [data.bgr(i, *levels) for i in thumb_idx]}
    for name, (enhancer, weights) in enhancers.items():
        # warm-up (compilation, caches) untimed, as the rows run it (a RAW model takes the mosaic)
        StreamProcessor(FixedModel(enhancer), dataclasses.replace(settings, auto_gate=False)).process(
            frames[0], data.encodings[0]
        )
        for row, row_settings in variants(name, settings).items():
            processor = StreamProcessor(FixedModel(enhancer), row_settings)
            times, luma, grids, quality, loe, dets, thumbs[row] = [], [], [], [], [], [], []
            for i in tqdm(range(n), desc=row, unit="frame", disable=not progress):
                frame, stats = processor.run(frames[i], data.encodings[i], data.stamps[i])
                times.append(stats.latency_ms)
                out = imgmsg.convert_layout(frame.array, frame.encoding, "bgr8")
                rgb = as_rgb(out)
                luma.append(imgmsg.mean_luminance(frame.array, frame.encoding, stride=1))
                grids.append(grid_luminance(frame.array, frame.encoding))
                quality.append(frame_quality(rgb))
                if i in loe_idx:
                    loe.append(metrics.lightness_order_error(raw_rgb[i], rgb))
                if i in thumb_idx:
                    thumbs[row].append(out)
                if detector:
                    dets.append(detector.detect(out))
            entry: dict[str, Any] = {
                "model": name,
                "smoothing": row_settings.smoothing,
                "backend": str(enhancer.backend),
                "weights": weights,
                "gated_frames": processor.stats.snapshot().gated,
                "latency_ms": latency_summary(times),
                "throughput_fps": throughput(n, times),
                "quality": {
                    k: {"before": results["raw"][k], "after": float(np.mean([q[k] for q in quality]))}
                    for k in QUALITY_KEYS
                },
                "loe": float(np.mean(loe)),
                "flicker": flicker_entry(results["raw"]["flicker"], flicker(luma)),
                "local_flicker": flicker_entry(results["raw"]["local_flicker"], local_flicker(grids)),
            }
            if detector:
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
            results["models"][row] = entry
            results["series"]["luma"][row] = luma
            results["series"]["flicker"][row] = relative_changes(luma).tolist()
            results["series"]["local_flicker"][row] = local_relative_changes(grids).tolist()
            results["series"]["latency_ms"][row] = times
    return results, thumbs
