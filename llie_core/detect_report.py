"""report.json and a self-contained report.html (inline PNG figures) for ``llie eval detect``."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from llie_core.bag.report import _json_safe, _png, _table, html_page
from llie_core.detect_eval import headline_table


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _rows(results: dict[str, Any]) -> list[str]:
    return ["dark", *results["stages"]] if results["noise"]["regimes"] else list(results["stages"])


def _figures(results: dict[str, Any]) -> dict[str, str]:
    """Base64 PNGs: mAP per condition and row, per-class AP50, precision-recall (labelled); detections (always)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: figures are only encoded
    import matplotlib.pyplot as plt

    figs: dict[str, str] = {}
    conditions = results["conditions"]
    rows = _rows(results)
    colours = plt.get_cmap("tab10")
    if results["dataset"]["labelled"]:
        fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=False)
        width = 0.8 / max(len(rows), 1)
        x = np.arange(len(conditions))
        for ax, key, title in zip(axes, ("map50", "map50_95"), ("AP50", "AP50-95"), strict=True):
            for j, row in enumerate(rows):
                values = [100 * conditions[c]["rows"][row][key] for c in conditions]
                ax.bar(x + (j - (len(rows) - 1) / 2) * width, values, width, label=row, color=colours(j % 10))
            ax.axhline(100 * results["reference"][key], color="black", linestyle="--", linewidth=1, label="clean")
            ax.set(xticks=x, xticklabels=list(conditions), ylabel=f"{title} (%)", title=f"{title}, mean of classes")
        axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        figs["map"] = _png(fig)

        classes = results["dataset"]["classes"]
        fig, axes = plt.subplots(1, len(conditions), figsize=(4.2 * len(conditions), 3.6), squeeze=False)
        names = ["clean", *rows]
        width = 0.8 / len(names)
        for ax, condition in zip(axes[0], conditions, strict=True):
            for j, row in enumerate(names):
                metrics = results["reference"] if row == "clean" else conditions[condition]["rows"][row]
                values = [100 * metrics["per_class"].get(c, {}).get("ap50", 0.0) for c in classes]
                colour = "black" if row == "clean" else colours((j - 1) % 10)
                ax.bar(np.arange(len(classes)) + (j - (len(names) - 1) / 2) * width, values, width, color=colour)
            ax.set(xticks=np.arange(len(classes)), title=f"AP50 per class: {condition}", ylim=(0, 100))
            ax.set_xticklabels(classes, rotation=30, fontsize=8)
        fig.legend(names, fontsize=8, loc="upper right")
        figs["per_class"] = _png(fig)

        fig, axes = plt.subplots(1, len(conditions), figsize=(4.2 * len(conditions), 3.6), squeeze=False)
        for ax, condition in zip(axes[0], conditions, strict=True):
            for j, row in enumerate(["clean", *rows]):
                metrics = results["reference"] if row == "clean" else conditions[condition]["rows"][row]
                curve = metrics["pr_curve"]
                colour = "black" if row == "clean" else colours((j - 1) % 10)
                ax.plot(np.linspace(0, 1, len(curve)), curve, color=colour, label=row, linewidth=1.2)
            ax.set(xlabel="recall", ylabel="precision", title=f"PR at IoU 0.5: {condition}", xlim=(0, 1), ylim=(0, 1))
        axes[0][-1].legend(fontsize=8)
        figs["pr"] = _png(fig)

    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(conditions) * len(rows) + 2), 3.6))
    labels, totals, matched = [results["reference"]["name"]], [results["reference"]["detections"]["total"]], [None]
    for condition, entry in conditions.items():
        for row in rows:
            d = entry["rows"][row]["detections"]
            labels.append(f"{condition}\n{row}" if len(conditions) > 1 else row)
            totals.append(d["total"])
            matched.append(d["matched"])
    x = np.arange(len(labels))
    ax.bar(x, totals, color="tab:blue", label="detections")
    ax.bar(x, [m or 0 for m in matched], color="tab:green", alpha=0.7, label="also on the reference frame")
    ax.set(
        xticks=x,
        ylabel="objects (all images)",
        title=f"Detections at conf ≥ {results['reference']['detections']['conf']}",
    )
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
    ax.legend(fontsize=8)
    figs["detections"] = _png(fig)
    return figs


def _examples(crops: dict[str, list[list[tuple[str, np.ndarray]]]]) -> dict[str, str]:
    """One base64 JPEG per condition: a row per example image, panels labelled (JPEG: noise makes PNGs huge)."""
    out = {}
    for condition, rows in crops.items():
        if not rows:
            continue
        lines = []
        for row in rows:
            tiles = []
            for label, img in row:
                tile = cv2.copyMakeBorder(img, 20, 2, 2, 2, cv2.BORDER_CONSTANT, value=(255, 255, 255))
                cv2.putText(tile, label[:32], (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
                tiles.append(tile)
            lines.append(np.concatenate(tiles, axis=1))
        width = max(line.shape[1] for line in lines)
        lines = [
            cv2.copyMakeBorder(ln, 0, 0, 0, width - ln.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255))
            for ln in lines
        ]
        ok, buf = cv2.imencode(".jpg", np.concatenate(lines, axis=0), [cv2.IMWRITE_JPEG_QUALITY, 85])
        if not ok:
            raise ValueError(f"cannot encode the example crops of {condition}")
        out[condition] = base64.b64encode(buf.tobytes()).decode("ascii")
    return out


def format_table(results: dict[str, Any]) -> str:
    """The headline table as text: AP50 / AP50-95 in % per condition (labelled), else detections."""
    if not results["dataset"]["labelled"]:
        lines = [f"{'row':24} {'detections':>10} {'mean conf':>9} {'matched':>8}"]
        ref = results["reference"]["detections"]
        lines.append(
            f"{results['reference']['name']:24} {ref['total']:>10} {ref['mean_confidence'] or 0:>9.3f} {'':>8}"
        )
        for condition, entry in results["conditions"].items():
            for row, m in entry["rows"].items():
                d = m["detections"]
                name = row if condition == "input" else f"{condition}/{row}"
                lines.append(f"{name:24} {d['total']:>10} {d['mean_confidence'] or 0:>9.3f} {d['matched']:>8}")
        return "\n".join(lines)
    header = ["regime", "clean", *_rows(results)]
    ap50, ap = headline_table(results, "map50"), headline_table(results, "map50_95")
    cells = [header] + [
        [a[0], *(f"{x:.1f} / {y:.1f}" for x, y in zip(a[1:], b[1:], strict=True))]
        for a, b in zip(ap50, ap, strict=True)
    ]
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(header))]
    text = [
        "  ".join(str(v).rjust(w) if j else str(v).ljust(w) for j, (v, w) in enumerate(zip(r, widths, strict=True)))
        for r in cells
    ]
    return "AP50 / AP50-95 (%), mean of classes\n" + "\n".join(text)


def write_report(
    results: dict[str, Any], crops: dict[str, list[list[tuple[str, np.ndarray]]]], out_dir: Path
) -> tuple[Path, Path]:
    """Write report.json and report.html into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    json_path.write_text(json.dumps(_json_safe(results), indent=1))
    figs, examples = _figures(results), _examples(crops)
    rows = _rows(results)
    sections: list[str] = []
    labelled = results["dataset"]["labelled"]
    if labelled:
        for key, title in (("map50", "AP50"), ("map50_95", "AP50-95")):
            table = [
                [c, _pct(results["reference"][key]), *(_pct(e["rows"][r][key]) for r in rows)]
                for c, e in results["conditions"].items()
            ]
            sections += [f"<h2>{title} (%), mean of classes</h2>", _table(["regime", "clean", *rows], table)]
        recovered = [
            [c, *(_pct((e["rows"][r].get("recovered") or {}).get("map50")) for r in rows if r != "dark")]
            for c, e in results["conditions"].items()
        ]
        sections += [
            "<h2>Recovered fraction of AP50 (%): (model − dark) / (clean − dark)</h2>",
            _table(["regime", *(r for r in rows if r != "dark")], recovered),
        ]
        for condition, entry in results["conditions"].items():
            classes = results["dataset"]["classes"]
            table = [["clean", *(_pct(results["reference"]["per_class"].get(k, {}).get("ap50")) for k in classes)]]
            table += [[r, *(_pct(entry["rows"][r]["per_class"].get(k, {}).get("ap50")) for k in classes)] for r in rows]
            sections += [f"<h3>AP50 per class (%): {html.escape(condition)}</h3>", _table(["row", *classes], table)]
    det_rows = [[results["reference"]["name"], *_det_cells(results["reference"]["detections"]), None]]
    for condition, entry in results["conditions"].items():
        for r in rows:
            m = entry["rows"][r]
            det_rows.append(
                [f"{condition} / {r}", *_det_cells(m["detections"]), (m.get("ms_per_image") or {}).get("median")]
            )
    conf = results["reference"]["detections"]["conf"]
    sections += [
        f"<h2>Detections at conf ≥ {conf}, agreement with the {results['reference']['name']} frame "
        "(IoU ≥ 0.5, same class)</h2>",
        _table(
            [
                "row",
                "objects",
                "mean conf",
                "matched",
                "also on reference",
                "reference found",
                "per class",
                "stage ms/image",
            ],
            det_rows,
        ),
    ]
    if "folders" in results:
        sections += _fleet_sections(results)
    for name in ("map", "per_class", "pr", "detections"):
        if name in figs:
            sections.append(
                f'<h2>{name}</h2><img id="fig-{name}" alt="{name}" src="data:image/png;base64,{figs[name]}">'
            )
    for condition, jpeg in examples.items():
        sections.append(
            f"<h2>Examples: {html.escape(condition)}</h2><p>boxes: detections at conf ≥ {conf}; white: labels</p>"
            f'<img class="examples" alt="examples {html.escape(condition)}" src="data:image/jpeg;base64,{jpeg}">'
        )
    ds, det, noise = results["dataset"], results["detector"], results["noise"]
    regimes = "".join(
        f"<li><b>{html.escape(n)}</b>: {html.escape(r['description'])}</li>" for n, r in noise["regimes"].items()
    )
    title = f"llie eval detect: {html.escape(ds['root'])}"
    intro = (
        f"<p>{ds['images']} images ({html.escape(ds['part'])} part{', labelled' if labelled else ', unlabelled'}), "
        f"detector {html.escape(det['model'])} at imgsz {det['imgsz']}, conf {det['conf']}, NMS IoU {det['iou']}; "
        f"noise seed {noise['seed']}, camera {html.escape(noise['camera'])}"
        f"{', Bayer ' + html.escape(noise['bayer']) if noise['bayer'] else ''}"
        f"{' (RAW path: RAW models restore the mosaic)' if noise.get('raw') else ''}; {results['wall_time_s']} s.</p>"
    )
    page = html_page(title, intro + f"<ul>{regimes}</ul>" + "".join(sections))
    html_path.write_text(page, encoding="utf-8")
    return json_path, html_path


def _fleet_sections(results: dict[str, Any]) -> list[str]:
    """Per-folder rows (AP50 / AP50-95 in %, or objects / matched) and the shards' hosts and times."""
    rows = _rows(results)
    labelled = results["dataset"]["labelled"]
    table = []
    for root, folder in results["folders"].items():
        if "error" in folder:
            table.append([root, folder["images"], "failed: " + folder["error"]])
            continue
        for condition, entry in folder["conditions"].items():
            metrics = [folder["reference"], *(entry["rows"][r] for r in rows)]
            if labelled:
                cells = [f"{_pct(m['map50'])} / {_pct(m['map50_95'])}" for m in metrics]
            else:
                cells = [metrics[0]["detections"]["total"]]
                cells += [f"{m['detections']['total']} / {m['detections']['matched']}" for m in metrics[1:]]
            table.append([root, folder["dataset"]["images"], condition, *cells])
    what = "AP50 / AP50-95 (%)" if labelled else "objects / also on the reference frame"
    shards = [
        [o["root"], o["first"], o["images"], o["host"], o["wall_s"], o["cache_hits"], o["error"]]
        for o in results["shards"]
    ]
    return [
        f"<h2>Per folder: {what}</h2>",
        _table(["folder", "images", "regime", results["reference"]["name"], *rows], table),
        "<h2>Tasks</h2>",
        _table(["folder", "first image", "images", "host", "seconds", "cache hits", "error"], shards),
    ]


def _det_cells(d: dict[str, Any]) -> list[Any]:
    per_class = ", ".join(f"{k} {v}" for k, v in d["per_class"].items())
    return [
        d["total"],
        d["mean_confidence"],
        d.get("matched"),
        d.get("also_on_reference"),
        d.get("reference_also_found"),
        per_class,
    ]
