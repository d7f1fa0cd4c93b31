"""The fleet report of ``llie bag eval`` over many bags: each bag's own report as it arrives, then the fleet's."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from llie_core.bag.report import Html, _json_safe, _png, _table, html_page, ratio_text, tables, write_rendered

BAGS_DIR = "bags"


def bag_report_dir(index: int, bag: str) -> str:
    """The folder (relative to the fleet report) of the ``index``-th bag's own report."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(bag).name) or "bag"
    return f"{BAGS_DIR}/{index:03d}_{name}"


def _figures(fleet: dict[str, Any], outcomes: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Base64 PNGs: pooled latency per model row, and brightness and flicker ratio per bag."""
    import matplotlib

    matplotlib.use("Agg")  # no display: figures are only encoded
    import matplotlib.pyplot as plt

    done = [o["results"] for o in outcomes if o["error"] is None]
    rows = list(fleet["models"])
    figs = {}
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for row in rows:
        ax.hist([t for r in done for t in r["series"]["latency_ms"][row]], bins=30, alpha=0.6, label=row)
    ax.set(xlabel="latency per frame (ms)", ylabel="frames", title=f"Enhancement latency, {len(done)} bags pooled")
    ax.legend()
    figs["latency"] = _png(fig)

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(7, 0.25 * len(done) + 3), 6), sharex=True)
    x = np.arange(len(done))
    top.plot(x, [r["raw"]["brightness"] for r in done], "o-", color="0.5", label="input")
    for row in rows:
        top.plot(x, [r["models"][row]["quality"]["brightness"]["after"] for r in done], ".-", label=row)
        ratios = [r["models"][row]["flicker"]["ratio"] for r in done]
        bottom.plot(x, [np.nan if v is None else v for v in ratios], ".-", label=row)
    bottom.axhline(1.0, color="0.5", linewidth=1)
    top.set(ylabel="mean brightness", title="Per bag")
    bottom.set(xlabel="bag", ylabel="flicker out / in")
    bottom.set_xticks(x)
    bottom.set_xticklabels([Path(r["input"]["bag"]).name for r in done], rotation=60, ha="right", fontsize=7)
    top.legend(fontsize="x-small")
    figs["bags"] = _png(fig)
    return figs


def write_bag_report(index: int, outcome: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """Write a task's bag report (its page rendered by the worker) under ``out_dir/bags/``; the outcome without it.

    ``run_tasks``' ``each``: a bag's report is on disk as soon as its task ends, and the driver keeps only results.
    """
    if outcome["error"] is not None:
        return outcome
    folder = bag_report_dir(index, outcome["bag"])
    write_rendered(outcome["results"], outcome["html"], out_dir / folder)
    return {k: v for k, v in outcome.items() if k != "html"} | {"report": f"{folder}/report.html"}


def write_fleet_report(fleet: dict[str, Any], outcomes: Sequence[dict[str, Any]], out_dir: Path) -> tuple[Path, Path]:
    """The fleet's report.json and report.html in ``out_dir`` (bag reports: ``write_bag_report``); their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    json_path.write_text(json.dumps(_json_safe(fleet), indent=1))
    rows = list(fleet["models"])
    per_bag = []
    for row in fleet["bags"]:
        name = Path(row["bag"]).name
        link = Html(f'<a href="{html.escape(row["report"])}">{html.escape(name)}</a>') if "report" in row else name
        if row["error"] is not None:
            per_bag.append([link, row["host"], row["wall_s"], row["error"]])
            continue
        cells = [row["frames"], row["duration_s"], row["lost"], row["raw"]["brightness"]]
        for model in rows:
            m = row["models"][model]
            cells.append(f"{m['brightness']:.3f} / {ratio_text(m['flicker_ratio'])}")
        per_bag.append([link, row["host"], row["wall_s"], *cells])
    header = ["bag", "host", "task s", "frames", "s", "missing", "brightness in"]
    header += [f"{model}: brightness / flicker ×" for model in rows]
    figs = _figures(fleet, outcomes)
    inp = fleet["input"]
    intro = (
        f"<p>{inp['bags']} bags ({len(inp['failed'])} failed), {inp['frames']} frames, {inp['duration_s']:.1f} s "
        f"of recording, {inp['lost']} frames missing from the recordings; "
        f"topics {html.escape(', '.join(inp['topics']))}. "
        "Totals: frame-weighted means, latency percentiles of all frames pooled, flicker over all frame pairs "
        "(none across bags), counts summed.</p>"
    )
    failed = "".join(f"<li>{html.escape(e)}</li>" for e in inp["failed"] + inp["read_errors"])
    sections = [intro, f"<ul>{failed}</ul>" if failed else "", "<h2>Per bag</h2>", _table(header, per_bag)]
    sections += ["<h2>Fleet totals</h2>", *tables(fleet)]
    for name, png in figs.items():
        sections.append(f'<h2>{name}</h2><img id="fig-{name}" alt="{name}" src="data:image/png;base64,{png}">')
    html_path.write_text(html_page(f"llie bag eval: {inp['bags']} bags", "".join(sections)), encoding="utf-8")
    return json_path, html_path
