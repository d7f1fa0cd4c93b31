"""``llie live``: a camera, stream, video or bag enhanced frame by frame as the enhancer node does, viewed live.

One module per concept: ``sources`` (camera index, URL, video file, bag), ``feed`` (keep-latest reader thread or
every frame, pacing), ``session`` (the per-frame loop: stream processor, detector, outputs, latency, summary),
``foxglove_out`` (WebSocket server and MCAP recording through the Foxglove SDK), ``window`` (the OpenCV window).
"""
