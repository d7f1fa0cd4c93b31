"""Shared fixtures: the ../shared reference folder (tests skip with a reason when it is missing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llie_core.registry import shared_dir


def shared_path(*parts: str) -> Path:
    """A path inside the shared folder, or skip the test naming what is missing."""
    path = shared_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared reference material missing: {path}")
    return path


def weights_arg(weights: str) -> str:
    """Resolve a golden variant's weights entry ("reference[:VARIANT]" or a file name) to what create_model takes."""
    if weights.partition(":")[0] == "reference":
        return weights
    return str(shared_path("weights", "reference", weights))


@pytest.fixture(scope="session")
def torch_threads():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(2)
    return torch


@pytest.fixture(scope="session")
def synthetic_weights(tmp_path_factory):
    """Factory: a seeded random checkpoint per curve model whose last bias is shifted so it brightens.

    Lets engine, export and CLI tests run without the shared reference checkpoints.
    """
    torch = pytest.importorskip("torch")
    from llie_core.models import create_model

    folder = tmp_path_factory.mktemp("synthetic_weights")
    made: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in made:
            torch.manual_seed(0)
            state = create_model(name).state_dict()
            last_bias = [k for k in state if k.endswith("bias")][-1]
            state[last_bias] = state[last_bias] - 1.5  # tanh → about -0.9: a strongly brightening curve
            made[name] = folder / f"{name}.pth"
            torch.save(state, made[name])
        return made[name]

    return make


def assert_estimator_graph_matches(session, model, images, tolerance: float = 1e-4) -> None:
    """An onnxruntime IAT estimator graph gives the torch model's maps and globals on each H×W×3 float image."""
    import numpy as np
    import torch

    assert [o.name for o in session.get_outputs()] == ["maps", "globals"]
    for image in images:
        x = np.ascontiguousarray(image.transpose(2, 0, 1)[None])
        maps, params = session.run(None, {"image": x})
        with torch.no_grad():
            ref_maps, ref_params = model.estimate(torch.from_numpy(x))
        assert np.abs(maps - ref_maps.numpy()).max() <= tolerance
        assert np.abs(params - ref_params.numpy()).max() <= tolerance
