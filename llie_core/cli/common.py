"""Helpers shared by the commands that run models on the user's behalf (demo, bench, bag, enhance, live)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from llie_core.engine import BACKENDS, Enhancer, MissingWeightsError, create_enhancer
from llie_core.params import ENHANCER_PARAMS, pipeline_params, validate
from llie_core.params_file import default_values, load_params_file
from llie_core.registry import get_spec

SHIPPED = "shipped weights"
REFERENCE = "published reference checkpoint (research use)"


def enhancer_or_reference(name: str, weights: str | Path | None = None, **options) -> tuple[Enhancer, str]:
    """(enhancer, where its weights come from): given weights, else shipped, else the published reference.

    ``options`` (backend, scale_factor, threads, device) apply to networks; classical methods take none.
    """
    if not get_spec(name).is_network:
        return create_enhancer(name), "classical"
    if weights is not None:
        return create_enhancer(name, weights=weights, **options), str(weights)
    try:
        return create_enhancer(name, **options), SHIPPED
    except MissingWeightsError:
        return create_enhancer(name, weights="reference", **options), REFERENCE


def add_params_option(parser: argparse.ArgumentParser) -> None:
    """``--params``: the enhancer node's parameter file, so the command processes frames as the node does."""
    parser.add_argument(
        "--params",
        type=Path,
        help="the enhancer (or pipeline) node's parameter file, e.g. config/enhancer.yaml: gating, temporal smoothing, "
        "output encoding and model settings as the node uses them (default: the node's defaults); "
        "model options given on the command line override it",
    )


MODEL_OPTIONS = ("model", "backend", "device", "weights", "scale_factor")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--backend``, ``--device``, ``--weights``, ``--scale-factor`` and ``--params``: the enhancer."""
    parser.add_argument(
        "--model", help="model or classical method (see `llie models`; default: --params', else noise_aware_dce)"
    )
    parser.add_argument("--backend", choices=BACKENDS, help="inference backend (default: --params', else auto)")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: --params', else cpu)")
    parser.add_argument("--weights", help="a .pth or estimator .onnx file, or 'reference' (default: shipped)")
    parser.add_argument(
        "--scale-factor", type=int, help="estimation at 1/s resolution (networks; default: the weights')"
    )
    add_params_option(parser)


def params_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The node's parameter values for ``add_model_options``' arguments: --params, then the model options given."""
    return node_params(args.params, **{name: getattr(args, name) for name in MODEL_OPTIONS})


def add_detector_options(parser: argparse.ArgumentParser) -> None:
    """``--detector`` (a local YOLO model file), ``--conf`` and ``--imgsz``."""
    parser.add_argument("--detector", type=Path, help="YOLO model file (.pt/.onnx) for detections")
    parser.add_argument("--conf", type=float, default=0.25, help="detector confidence threshold")
    parser.add_argument("--imgsz", type=int, default=640, help="detector input size")


def detector_from_args(args: argparse.Namespace) -> Any:
    """The Detector that ``add_detector_options``' arguments ask for, or None without ``--detector``."""
    if not args.detector:
        return None
    from llie_core.detect import Detector  # lazy: ultralytics is only imported with a detector

    return Detector(args.detector, conf=args.conf, imgsz=args.imgsz)


def node_params(params_file: Path | None, **overrides: Any) -> dict[str, Any]:
    """The enhancer node's parameter values: its defaults, then ``params_file``, then the non-None ``overrides``.

    Raises ValueError (ParamsFileError) naming the file or option and what is wrong.
    """
    specs = pipeline_params()  # the enhancer's parameters, and a pipeline file's detector.* ones
    values = load_params_file(params_file, specs, node=("enhancer", "pipeline")) if params_file else default_values()
    by_name = {spec.name: spec for spec in ENHANCER_PARAMS}
    for name, value in overrides.items():
        if value is None:
            continue
        ok, reason = validate(by_name[name], value)
        if not ok:
            raise ValueError(f"--{name.replace('_', '-')}: {reason}")
        values[name] = value
    return values


def enhancer_from_params(
    values: dict[str, Any], model: str | None = None, threads: int | None = None
) -> tuple[Enhancer, str]:
    """(enhancer, where its weights come from) for node parameter values (``model`` replaces theirs).

    ``threads``: a network's inference threads (None: the backend's default).
    """
    name = model or values["model"]
    options: dict[str, Any] = {"backend": values["backend"], "device": values["device"]}
    if values["scale_factor"]:
        options["scale_factor"] = values["scale_factor"]
    if threads:
        options["threads"] = threads
    if values.get("amplification") and get_spec(name).kind == "raw":  # an explicit gain instead of the metered one
        options["amplification"] = values["amplification"]
    return enhancer_or_reference(name, values["weights"] or None, **options)


def add_fleet_options(parser: argparse.ArgumentParser) -> None:
    """``--ray [ADDRESS]`` and ``--workers``: fan the inputs out as Ray tasks (llie_core.fleet)."""
    parser.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run one task per input on Ray and merge: 'local' (the default with no ADDRESS: a private instance on "
        "this machine), 'auto' (the cluster this machine belongs to) or ray://HEAD:10001; without --ray the tasks "
        "run one after another in this process",
    )
    parser.add_argument("--workers", type=int, help="CPUs of a local Ray instance (default: all)")
