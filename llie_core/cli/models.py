"""``llie models``: every method with its kind, parameter count and default weights' provenance."""

from __future__ import annotations

import argparse
import json

from llie_core.registry import (
    DEFAULT_MODEL,
    default_max_estimation_side,
    default_scale_factor,
    list_specs,
    model_card,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``llie models``."""
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def model_rows() -> list[dict]:
    """One dict per registered method: name, kind, params, default weights and their provenance."""
    rows = []
    for spec in list_specs():
        if not spec.is_network:
            weights, provenance = "-", "no weights (classical method)"
        else:
            shipped = [p.name for p in (spec.default_weights(".pth"), spec.default_weights(".onnx")) if p.is_file()]
            weights = ", ".join(shipped) if shipped else "-"
            provenance = model_card(spec.name).get("provenance") if shipped else None
            provenance = provenance or "not shipped yet: pass --weights, or train them with `make weights`"
        rows.append(
            {
                "name": spec.name,
                "default": spec.name == DEFAULT_MODEL,  # what create_enhancer(), the CLI and the nodes use unnamed
                "kind": spec.kind,
                "params": spec.params,
                # of the default weights: the shipped ones' card may set it (registry.default_scale_factor)
                "default_scale_factor": default_scale_factor(spec.name) if spec.is_network else None,
                "max_estimation_side": default_max_estimation_side(spec.name),  # None: the scale factor alone
                "default_weights": weights,
                "provenance": provenance,
                "description": spec.description,
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    """Print the table (or JSON)."""
    rows = model_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    cols = ["name", "kind", "params", "default_weights", "provenance"]
    cells = [[f"{r[c]:,}" if c == "params" else str(r[c]) for c in cols] for r in rows]
    for row, r in zip(cells, rows, strict=True):
        row[0] += " (default)" if r["default"] else ""
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.rjust(w) if c == "params" else v.ljust(w) for c, v, w in zip(cols, row, widths, strict=True)))
    return 0
