"""``llie live SOURCE``: a camera, stream URL, video file or bag enhanced frame by frame and shown live in Foxglove.

Every frame runs through the enhancer node's StreamProcessor with the node's parameters (``--params``; model options
on the command line override them) and, with ``--detector``, through YOLO. The Foxglove SDK serves the raw and
enhanced images, the detections as image annotations and per-frame stats with latency over WebSocket
(llie_core.live.foxglove_out); ``--record`` writes the same channels to an MCAP file; ``--window`` opens an OpenCV
window where a display exists.

Pacing: cameras and streams are read by a reader thread as they deliver frames; a frame that arrives while the
previous one is still waiting is dropped and counted (keep-latest, never a queue). Files and bags are played the same
way at their own frame rate by default (``--realtime``), so the dropped count says what a camera of that rate would
lose; ``--no-realtime`` processes every frame of a file or bag, as fast as the models allow. Ctrl-C, the end of a
file, ``--max-frames`` or closing the window ends the run with a summary; the exit status is 0 then.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llie_core.cli.common import add_detector_options, add_model_options, detector_from_args, params_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``llie live``."""
    parser.add_argument(
        "source",
        help="camera index (0), stream URL (rtsp://..., http://... MJPEG), video file, or ROS bag (folder or file)",
    )
    parser.add_argument("--topic", help="bags: the image topic (default: the first camera image topic)")
    add_model_options(parser)
    add_detector_options(parser)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address the Foxglove server listens on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="Foxglove WebSocket port (default 8765; 0: any free one)"
    )
    parser.add_argument("--record", type=Path, help="also write the live channels to this MCAP file")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --record file")
    parser.add_argument("--window", action="store_true", help="also show an OpenCV window (needs a display)")
    parser.add_argument(
        "--realtime",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="files and bags: play at their own frame rate and drop what the models cannot keep up with (default), "
        "or with --no-realtime process every frame as fast as possible",
    )
    parser.add_argument("--loop", action="store_true", help="files and bags: start again at the end")
    parser.add_argument("--max-frames", type=int, help="stop after processing this many frames")
    parser.set_defaults(func=run)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the run like Ctrl-C (summary, recording finished); only the main thread can set handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _warn(text: str) -> None:
    print(f"llie live: {text}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Set up source, models and outputs (status 2 on any problem), then run until the source ends or Ctrl-C."""
    from llie_core.cli.common import enhancer_from_params
    from llie_core.live.feed import Feed
    from llie_core.live.foxglove_out import FoxgloveOutput
    from llie_core.live.session import LiveSession
    from llie_core.live.sources import open_source
    from llie_core.live.window import LiveWindow, check_display
    from llie_core.stream import FixedModel, StreamProcessor, StreamSettings

    if args.max_frames is not None and args.max_frames < 1:
        print("llie live: --max-frames must be at least 1", file=sys.stderr)
        return 2
    source = output = window = None
    try:
        if args.window:
            check_display()
        params = params_from_args(args)
        enhancer, weights = enhancer_from_params(params)
        detector = detector_from_args(args)
        settings = StreamSettings.from_params(params)
        processor = StreamProcessor(FixedModel(enhancer), settings)
        session = LiveSession(processor, detector, warn=_warn)
        session.warm_up()
        # The source opens once the models are ready: a camera or stream would otherwise pile up frames meanwhile.
        source = open_source(args.source, topic=args.topic, loop=args.loop)
        if source.live and args.realtime is False:
            raise ValueError(f"--no-realtime: {source.name} is a live source; its frames come at its own pace")
        output = FoxgloveOutput(
            host=args.host,
            port=args.port,
            record=args.record,
            overwrite=args.overwrite,
            jpeg_quality=settings.jpeg_quality,
        )
        window = LiveWindow() if args.window else None
    except Exception as exc:  # every set-up problem ends here with its reason (bad source, model, port, file)
        for opened in (output, source):
            if opened is not None:
                opened.close()
        print(f"llie live: {exc}", file=sys.stderr)
        return 2

    session.outputs, session.window = [output], window
    paced = not source.live and args.realtime is not False
    feed = Feed(source, processor.stats, keep_latest=source.live or paced, pace=paced, warn=_warn)
    rate = f"{source.fps:g} fps" if source.fps else "unknown rate"
    mode = "keep-latest" if feed.keep_latest else "every frame, as fast as possible"
    pacing = "its own pace" if source.live else f"{'its frame rate' if paced else 'no pacing'}"
    print(f"llie live: {source.name} ({rate}, {pacing}, {mode})", flush=True)
    model = f"{enhancer.name} ({enhancer.backend}, {weights})"
    print(f"  model {model}" + (f", detector {args.detector}" if detector is not None else ""), flush=True)
    if output.url:
        print(f"  Foxglove: {output.url} (Foxglove app: Open connection → Foxglove WebSocket)", flush=True)
    if args.record:
        print(f"  recording to {args.record}", flush=True)
    print("  running; Ctrl-C to stop", flush=True)
    try:
        with _sigterm_as_interrupt():
            summary = session.run(feed, max_frames=args.max_frames)
    finally:
        output.close()
        if window is not None:
            window.close()
    for line in summary.lines():
        print(line, flush=True)
    if summary.source_error or (summary.failed and not summary.processed):
        return 1
    return 0
