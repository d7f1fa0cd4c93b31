"""Plain-Python pieces of the nodes: the ready line.

The keep-latest intake (LatestSlot, FrameWorker) and the per-camera state (gating, smoothing, statistics, frame
loss) are llie_core.stream's.
"""

from __future__ import annotations

# Start of the line each node logs once it is subscribed and its models are warm; bag_replay.launch.py waits
# for it before playing, so no recorded frame reaches a node that is still loading.
READY = "ready: "
