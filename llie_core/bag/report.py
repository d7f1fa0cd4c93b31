"""report.json and a self-contained report.html (inline base64 PNG figures) for ``llie bag eval``."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from llie_core.bag.quality import GRID

FIGURES = ("brightness", "flicker", "latency", "detections", "thumbnails")
FLICKER_NOTE = (
    "Flicker: mean relative frame-to-frame change of mean luminance, |ΔL| / L (L: the two frames' mean luminance), "
    "in % per frame; local: the same on each cell of a {grid}×{grid} grid, averaged over the cells. Ratio: output "
    "over input (above 1: the enhancement adds flicker). Rows with a smoothing weight use the node's temporal "
    "smoothing; gated frames are passed through as the node does."
)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(results: dict[str, Any], thumbs: dict[str, list[np.ndarray]]) -> dict[str, str]:
    """Base64 PNGs by figure name (``detections`` only when a detector ran)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: figures are only encoded
    import matplotlib.pyplot as plt

    figs: dict[str, str] = {}
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, times in results["series"]["latency_ms"].items():
        ax.hist(times, bins=30, alpha=0.6, label=name)
    ax.set(xlabel="latency per frame (ms)", ylabel="frames", title="Enhancement latency")
    ax.legend()
    figs["latency"] = _png(fig)

    fig, ax = plt.subplots(figsize=(7, 3.5))
    stamps = np.asarray(results["series"]["stamps_ns"], dtype=np.float64)
    for name, luma in results["series"]["luma"].items():
        x = (stamps[: len(luma)] - stamps[0]) / 1e9 if stamps.size == len(luma) else np.arange(len(luma))
        ax.plot(x, luma, label=name, linewidth=1.8 if name == "raw" else 1.2)
    ax.set(xlabel="time (s)", ylabel="mean luminance [0, 1]", title="Brightness over time", ylim=(0, 1))
    ax.legend()
    figs["brightness"] = _png(fig)

    # One row of panels per model (its rows without and with smoothing against the input), global | local.
    groups: dict[str, list[str]] = {}
    for row, entry in results["models"].items():
        groups.setdefault(entry.get("model", row), []).append(row)
    fig, axes = plt.subplots(
        len(groups), 2, figsize=(11, 2.4 * len(groups) + 0.6), sharex=True, sharey=True, squeeze=False
    )
    for (model, rows), pair in zip(groups.items(), axes, strict=True):
        for ax, key, what in zip(pair, ("flicker", "local_flicker"), ("global", "local (4×4 mean)"), strict=True):
            for name in ("raw", *rows):
                changes = 100 * np.asarray(results["series"][key][name])
                # each change belongs to the later frame of its pair
                ok = stamps.size == changes.size + 1
                x = (stamps[1:] - stamps[0]) / 1e9 if ok else np.arange(1, changes.size + 1)
                style = {"color": "0.6", "linewidth": 1.4} if name == "raw" else {"linewidth": 0.9}
                ax.plot(x, changes, label="input" if name == "raw" else name, **style)
            ax.set_title(f"{model}: {what}", fontsize="medium")
            ax.legend(fontsize="x-small", loc="upper right")
        pair[0].set_ylabel("|ΔL| / L (%)")
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fig.suptitle("Frame-to-frame relative luminance change (flicker), input vs output")
    fig.tight_layout()
    figs["flicker"] = _png(fig)

    if "detections" in results["raw"]:
        labels = ["raw", *results["models"]]
        counts = [results["raw"]["detections"]["total"]] + [
            m["detections"]["enhanced"]["total"] for m in results["models"].values()
        ]
        matched = [results["raw"]["detections"]["total"]] + [
            m["detections"]["matched"] for m in results["models"].values()
        ]
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.bar(labels, counts, color="tab:blue", label="detections")
        ax.bar(labels, matched, color="tab:green", alpha=0.6, label="also found on raw")
        ax.set(ylabel="objects (all frames)", title="Detections per model")
        ax.legend()
        figs["detections"] = _png(fig)

    figs["thumbnails"] = base64.b64encode(_strip(thumbs)).decode("ascii")
    return figs


def _strip(thumbs: dict[str, list[np.ndarray]], width: int = 240) -> bytes:
    """A PNG grid: one row per sampled frame, columns raw | each model, labelled."""
    rows = []
    for i in range(len(thumbs["raw"])):
        tiles = []
        for name, frames in thumbs.items():
            frame = frames[i] if frames[i].ndim == 3 else cv2.cvtColor(frames[i], cv2.COLOR_GRAY2BGR)
            h = max(1, round(frame.shape[0] * width / frame.shape[1]))
            tile = cv2.resize(frame, (width, h), interpolation=cv2.INTER_AREA)
            cv2.putText(tile, name, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
            tiles.append(tile)
        rows.append(np.concatenate(tiles, axis=1))
    ok, buf = cv2.imencode(".png", np.concatenate(rows, axis=0))
    if not ok:
        raise ValueError("cannot encode the thumbnail strip")
    return buf.tobytes()


class Html(str):
    """Table cell text that is already HTML (a link): written as is, not escaped."""


def _fmt(value: Any) -> str:
    if isinstance(value, Html):
        return value
    if value is None:
        return "–"
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.3f}"
    return html.escape(str(value))


def percent_text(value: float | None) -> str:
    """A relative flicker as a percentage with three significant digits (never a bare 0.000)."""
    return "–" if value is None else f"{100 * value:.3g}"


def ratio_text(value: float | None) -> str:
    """A ratio with three significant digits."""
    return "–" if value is None else f"{value:.3g}"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def html_page(title: str, body: str) -> str:
    """A self-contained HTML page: ``title`` (already escaped) as title and heading, then ``body``."""
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}img{max-width:100%}</style></head><body>"
        f"<h1>{title}</h1>{body}</body></html>"
    )


def _json_safe(value: Any) -> Any:
    """NaN and infinity are not JSON: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def tables(results: dict[str, Any]) -> list[str]:
    """HTML sections of a bag's (or a fleet's) speed, flicker, quality and detection tables."""
    models = results["models"]
    speed = _table(
        ["model", "backend", "weights", "median ms", "p95 ms", "frames/s", "LOE", "gated frames"],
        [
            [
                n,
                m["backend"],
                m["weights"],
                m["latency_ms"]["median"],
                m["latency_ms"]["p95"],
                m["throughput_fps"],
                m["loe"],
                m["gated_frames"],
            ]
            for n, m in models.items()
        ],
    )
    flicker = _table(
        ["model", "smoothing", "flicker in %", "out %", "ratio", "local flicker in %", "out %", "ratio"],
        [
            [
                n,
                f"{m['smoothing']:g}",
                percent_text(m["flicker"]["input"]),
                percent_text(m["flicker"]["output"]),
                ratio_text(m["flicker"]["ratio"]),
                percent_text(m["local_flicker"]["input"]),
                percent_text(m["local_flicker"]["output"]),
                ratio_text(m["local_flicker"]["ratio"]),
            ]
            for n, m in models.items()
        ],
    )
    keys = list(results["raw"].keys() - {"flicker", "local_flicker", "detections"})
    quality = _table(
        ["metric", "raw", *models],
        [[k, results["raw"][k], *(m["quality"][k]["after"] for m in models.values())] for k in sorted(keys)],
    )
    sections = [
        "<h2>Speed and order error</h2>",
        speed,
        "<h2>Flicker</h2>",
        f"<p>{html.escape(FLICKER_NOTE.format(grid=GRID))}</p>",
        flicker,
        "<h2>Quality (mean over frames)</h2>",
        quality,
    ]
    if "detections" in results["raw"]:
        det_rows = [
            [
                n,
                m["detections"]["enhanced"]["total"],
                m["detections"]["enhanced"]["mean_confidence"],
                m["detections"]["matched"],
                m["detections"]["enhanced_also_on_raw"],
                m["detections"]["raw_also_on_enhanced"],
                ", ".join(f"{k} {v}" for k, v in m["detections"]["enhanced"]["per_class"].items()),
            ]
            for n, m in models.items()
        ]
        raw = results["raw"]["detections"]
        det_rows.insert(
            0,
            [
                "raw",
                raw["total"],
                raw["mean_confidence"],
                None,
                None,
                None,
                ", ".join(f"{k} {v}" for k, v in raw["per_class"].items()),
            ],
        )
        sections += [
            "<h2>Detections (IoU ≥ 0.5, same class)</h2>",
            _table(
                ["frames", "objects", "mean conf", "matched", "enh. also raw", "raw also enh.", "per class"], det_rows
            ),
        ]
    return sections


def write_report(results: dict[str, Any], thumbs: dict[str, list[np.ndarray]], out_dir: Path) -> tuple[Path, Path]:
    """Write report.json and report.html into ``out_dir``; returns their paths."""
    return write_rendered(results, render_html(results, thumbs), out_dir)


def write_rendered(results: dict[str, Any], page: str, out_dir: Path) -> tuple[Path, Path]:
    """Write ``results`` as report.json and an already rendered ``page`` as report.html; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    json_path.write_text(json.dumps(_json_safe(results), indent=1))
    html_path.write_text(page, encoding="utf-8")
    return json_path, html_path


def render_html(results: dict[str, Any], thumbs: dict[str, list[np.ndarray]]) -> str:
    """The self-contained report.html page of one bag's results (figures and thumbnails inline)."""
    figs = _figures(results, thumbs)
    sections = tables(results)
    for name in FIGURES:
        if name in figs:
            sections.append(
                f'<h2>{name}</h2><img id="fig-{name}" alt="{name}" src="data:image/png;base64,{figs[name]}">'
            )
    inp = results["input"]
    title = f"llie bag eval: {html.escape(inp['bag'])} {html.escape(inp['topic'])}"
    intro = (
        f"<p>{inp['frames']} frames, {inp['size'][0]}×{inp['size'][1]}, "
        f"{inp['duration_s']:.1f} s, {inp['lost']} missing from the recording; "
        f"LOE on {inp['loe_frames']} evenly spaced frames; "
        f"read error: {_fmt(inp['read_error'])}</p>"
    )
    return html_page(title, intro + "".join(sections))
