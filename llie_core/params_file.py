"""Reading a node's ROS 2 parameter file (``/**: ros__parameters: ...``, as in config/*.yaml) without ROS.

The offline tools take the same file as the enhancer node (``--params config/enhancer.yaml``) and check it as
the node does: every name must be a declared parameter, every value must pass its spec (type, range, choices)
and the cross-parameter gate rule must hold. Read-only parameters (QoS, transport) are accepted, as at launch.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from llie_core.params import ENHANCER_PARAMS, QOS_PARAMS, ParamSpec, check_enhancer_values, normalize_value, validate

# The enhancer's parameters; a pipeline file (detector.* too) is read with pipeline_params().
ENHANCER_SPECS = ENHANCER_PARAMS + QOS_PARAMS


class ParamsFileError(ValueError):
    """A parameter file that cannot be used: the text names the file and what is wrong."""


def default_values(specs: tuple[ParamSpec, ...] = ENHANCER_SPECS) -> dict[str, Any]:
    """Every parameter at its declared default, as a node started without a parameter file has them."""
    return {spec.name: spec.default for spec in specs}


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested YAML mappings (``detector: {model: ...}``) as the dotted names ROS gives them."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = normalize_value(value)
    return out


def _applies_to(section: str, nodes: tuple[str, ...]) -> bool:
    """Whether a section (``/**``, ``enhancer``, ``/cam/enhancer``, ``/**/enhancer``) configures one of ``nodes``."""
    return section == "/**" or section.rstrip("/").rsplit("/", 1)[-1] in nodes


def load_params_file(
    path: str | Path, specs: tuple[ParamSpec, ...] = ENHANCER_SPECS, node: str | tuple[str, ...] = "enhancer"
) -> dict[str, Any]:
    """Every parameter of ``specs``: the defaults, overridden by ``path``'s sections for ``node`` (``/**`` first).

    ``node`` is a node name or several (the enhancer's parameters are also the pipeline's). Raises ParamsFileError
    naming the file and the parameter on anything the node would reject.
    """
    nodes = (node,) if isinstance(node, str) else tuple(node)
    who = " or ".join(nodes)
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParamsFileError(f"{path}: cannot read the parameter file: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ParamsFileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping) or not data:
        raise ParamsFileError(f"{path}: expected a ROS 2 parameter file ('/**: ros__parameters: ...')")
    sections = sorted((k for k in data if _applies_to(str(k), nodes)), key=lambda k: k != "/**")
    if not sections:
        raise ParamsFileError(f"{path}: no section for the {who} node (sections: {', '.join(map(str, data))})")
    values = default_values(specs)
    by_name = {spec.name: spec for spec in specs}
    for section in sections:
        body = data[section]
        if not isinstance(body, Mapping) or not isinstance(body.get("ros__parameters"), Mapping):
            raise ParamsFileError(f"{path}: section {section!r} has no 'ros__parameters' mapping")
        for name, value in _flatten(body["ros__parameters"]).items():
            spec = by_name.get(name)
            if spec is None:
                raise ParamsFileError(f"{path}: unknown parameter {name!r} for the {who} node")
            ok, reason = validate(spec, value)
            if not ok:
                raise ParamsFileError(f"{path}: {reason}")
            values[name] = value
    ok, reason = check_enhancer_values(values)
    if not ok:
        raise ParamsFileError(f"{path}: {reason}")
    return values
