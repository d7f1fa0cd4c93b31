"""Finding and reading the inputs of ``llie enhance``: image files, RAW files, folders, globs and videos.

RAW camera files (DNG, ARW, NEF, CR2, ...) are read with rawpy (LibRaw; ``pip install 'llie[raw]'``): the visible
Bayer mosaic with the file's own pattern, black level and white level, as a ``bayer.RawFrame``.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from llie_core.bayer import RawFrame, check_pattern

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}
# Camera RAW formats LibRaw reads (Bayer sensors; X-Trans and Foveon files are refused when read).
RAW_SUFFIXES = {
    ".dng", ".arw", ".srf", ".sr2", ".nef", ".nrw", ".cr2", ".cr3", ".crw", ".raf", ".orf", ".rw2", ".rwl",
    ".pef", ".srw", ".3fr", ".iiq", ".erf", ".kdc", ".dcr", ".mos", ".mef", ".mrw", ".x3f",
}  # fmt: skip


@dataclass(frozen=True)
class Job:
    """One input file and the path its result goes to."""

    source: Path
    dest: Path

    @property
    def is_video(self) -> bool:
        """Whether the source is a video (by suffix)."""
        return self.source.suffix.lower() in VIDEO_SUFFIXES

    @property
    def is_raw(self) -> bool:
        """Whether the source is a camera RAW file (by suffix); its result is written as PNG."""
        return self.source.suffix.lower() in RAW_SUFFIXES


def _is_media(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES | RAW_SUFFIXES


def _glob_root(pattern: str) -> Path:
    """The longest leading part of a glob pattern without wildcards (results keep paths below it)."""
    parts = Path(pattern).parts
    fixed = parts[: next((i for i, p in enumerate(parts) if glob.has_magic(p)), len(parts))]
    return Path(*fixed) if fixed else Path(".")


def plan_jobs(inputs: list[str], out_dir: Path) -> list[Job]:
    """Map every input (file, folder: recursive, glob) to its destination under ``out_dir``.

    Folders keep their structure below ``out_dir``; files land directly in it. Raises
    FileNotFoundError naming inputs that match nothing and ValueError on two inputs that
    would write the same destination.
    """
    jobs: list[Job] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and _is_media(p))
            jobs += [Job(f, out_dir / f.relative_to(path)) for f in files]
        elif path.is_file():
            jobs.append(Job(path, out_dir / path.name))
        elif glob.has_magic(item):
            root = _glob_root(item)
            files = sorted(Path(p) for p in glob.glob(item, recursive=True) if Path(p).is_file() and _is_media(Path(p)))
            if not files:
                raise FileNotFoundError(f"input pattern {item!r} matches no image or video file")
            jobs += [Job(f, out_dir / f.relative_to(root)) for f in files]
        else:
            raise FileNotFoundError(f"input {item!r} does not exist")
    seen: dict[Path, Path] = {}
    for job in jobs:
        if job.dest in seen and seen[job.dest] != job.source:
            raise ValueError(f"inputs {seen[job.dest]} and {job.source} would both write {job.dest}")
        seen[job.dest] = job.source
    if not jobs:
        raise FileNotFoundError(f"no image or video files found in {inputs}")
    return jobs


def check_writable(out_dir: Path) -> None:
    """Create ``out_dir`` and prove it is writable, before any work starts (OSError naming it otherwise)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".llie-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OSError(f"output folder {out_dir} is not writable: {exc.strerror or exc}") from exc


def read_image(path: Path) -> np.ndarray:
    """Read an image as the camera layout: H×W×3 BGR, H×W×4 BGRA or H×W mono; uint8 or uint16."""
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0:
        raise ValueError(f"{path}: file is empty")
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"{path}: not a readable image (corrupt or unsupported format)")
    if image.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"{path}: pixel type {image.dtype} is not supported (uint8 or uint16 only)")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    return image


def read_raw(path: Path) -> RawFrame:
    """A camera RAW file's visible Bayer mosaic with its pattern and levels (rawpy); ValueError naming the file."""
    try:
        import rawpy
    except ImportError:
        raise ImportError(f"{path}: reading RAW files needs rawpy: pip install 'llie[raw]'") from None
    try:
        with rawpy.imread(str(path)) as raw:
            colours = raw.raw_colors_visible[:2, :2]
            names = raw.color_desc.decode("ascii", "replace")
            if raw.raw_type != rawpy.RawType.Flat or raw.num_colors != 3 or colours.shape != (2, 2):
                raise ValueError(f"{path}: not a Bayer RAW file (LibRaw: {raw.raw_type.name}, colours {names!r})")
            pattern = "".join(names[i] for i in colours.ravel()).replace("g", "G")
            blacks = [float(b) for b in raw.black_level_per_channel]
            data = np.array(raw.raw_image_visible, dtype=np.uint16)
            white = int(raw.white_level)
    except (rawpy.LibRawError, OSError) as exc:
        raise ValueError(f"{path}: cannot read the RAW file: {exc}") from None
    try:
        check_pattern(pattern)
        # per-channel blacks differ by a few codes at most on Bayer sensors: one level for the mosaic
        return RawFrame(data, pattern, int(round(sum(blacks) / len(blacks))), white)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def write_image(path: Path, image: np.ndarray) -> None:
    """Write an image, creating parent folders; the suffix picks the format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(path.suffix, image)
    if not ok:
        raise ValueError(f"{path}: cannot encode a {image.dtype} {image.shape} image as {path.suffix}")
    buf.tofile(path)


def read_video(path: Path) -> tuple[Iterator[np.ndarray], float, int]:
    """(frame iterator of BGR uint8 frames, frames per second, frame count or 0 if unknown)."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: not a readable video")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)

    def frames() -> Iterator[np.ndarray]:
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    return
                yield frame
        finally:
            cap.release()

    return frames(), fps, count


class VideoWriter:
    """Writes BGR uint8 frames to .mp4 (mp4v) or .avi (MJPG), opened on the first frame."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path, self.fps = path, fps
        self._writer: cv2.VideoWriter | None = None

    def write(self, frame: np.ndarray) -> None:
        """Append one frame (all frames must have the first frame's size)."""
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fourcc = cv2.VideoWriter_fourcc(*("MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"))
            self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (frame.shape[1], frame.shape[0]))
            if not self._writer.isOpened():
                raise OSError(f"{self.path}: cannot open a video writer")
        self._writer.write(frame)

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
