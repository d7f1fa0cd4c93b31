"""benchmarks/niqe_lever_probe.py proxies: the seeded training-side NIQE proxies, built from fake images."""

import argparse
import importlib
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from llie_core.detect_eval import split_names
from llie_core.noise import darken, get_regime

pytest.importorskip("torch")  # the probe runs the torch model for its other subcommands
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # the probes import their neighbours
niqe_lever_probe = importlib.import_module("niqe_lever_probe")


@pytest.fixture
def pools(tmp_path: Path) -> tuple[Path, Path]:
    """A SICE-like pool of 50 JPEGs and a highway_dev-like images/ folder of 200 (the split holds 150 of them out)."""
    rng = np.random.default_rng(0)
    sice, highway = tmp_path / "sice", tmp_path / "highway"
    sice.mkdir()
    (highway / "images").mkdir(parents=True)
    for i in range(50):
        cv2.imwrite(str(sice / f"{i + 1}.jpg"), rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    for i in range(200):
        cv2.imwrite(str(highway / "images" / f"train_{i:04d}.jpg"), rng.integers(0, 256, (16, 24, 3), dtype=np.uint8))
    return sice, highway


def build(sice: Path, highway: Path, out: Path) -> dict:
    niqe_lever_probe.proxies(argparse.Namespace(sice=sice, highway=highway, output=out))
    return json.loads((out / "proxies.json").read_text())


def test_proxies_are_seeded_training_frames_darkened_as_listed(pools, tmp_path):
    sice, highway = pools
    listing = build(sice, highway, tmp_path / "a")
    names = listing["hw"]["names"]
    train = split_names(sorted(p.name for p in (highway / "images").iterdir())).train
    assert len(names) == 40 and set(names) <= set(train)  # never a held-out frame
    assert sorted(p.name for p in (tmp_path / "a" / "sice40").iterdir()) == listing["sice40"]["names"]
    for name in listing["sice40"]["names"]:  # copied, not re-encoded
        assert (tmp_path / "a" / "sice40" / name).read_bytes() == (sice / name).read_bytes()
    for i, name in enumerate(names):
        rgb = cv2.imread(str(highway / "images" / name))[:, :, ::-1]
        png = Path(name).with_suffix(".png").name
        none = cv2.imread(str(tmp_path / "a" / "hw_none" / png))[:, :, ::-1]
        moderate = cv2.imread(str(tmp_path / "a" / "hw_moderate" / png))[:, :, ::-1]
        assert np.array_equal(none, darken(np.ascontiguousarray(rgb), get_regime("none"), np.random.default_rng(0)))
        expected = darken(np.ascontiguousarray(rgb), get_regime("moderate"), np.random.default_rng([3, i]))
        assert np.array_equal(moderate, expected) and not np.array_equal(moderate, none)
    again = build(sice, highway, tmp_path / "b")  # a rebuild is the same folders
    assert again == listing
    for png in (tmp_path / "a" / "hw_moderate").iterdir():
        assert np.array_equal(cv2.imread(str(png)), cv2.imread(str(tmp_path / "b" / "hw_moderate" / png.name)))
