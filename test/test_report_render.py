"""The bag report renders in a real browser (headless Chromium): tables and inline plots are on the page."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from llie_core.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags that keep Chromium off the network and quiet in a sandbox-less container.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package chromium)")
def test_report_renders_with_plots(tmp_path, monkeypatch):
    import cv2

    monkeypatch.setenv("LLIE_SHARED_DIR", str(tmp_path / "no_shared"))
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--frames", "4", "--models", "gamma,clahe"]) == 0
    page = out / "report" / "report.html"
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<table") >= 2 and "gamma" in dom and "clahe" in dom
    shot = tmp_path / "report.png"
    subprocess.run([*common, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()], timeout=120)
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[:2] == (1600, 1200)
    # The plots are drawn in colour on a white page: a blank or broken page has almost one colour.
    colours = np.unique(image.reshape(-1, 3) // 16, axis=0)
    assert len(colours) > 50
    assert (image.min(axis=2) < 200).mean() > 0.02
