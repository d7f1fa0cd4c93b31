"""Camera streams as the enhancer node processes them: gating, temporal smoothing, statistics, frame loss.

One module per concept: ``gate`` (FrameGate), ``temporal`` (Ema over model states), ``loss`` (frames lost before
the node), ``stats`` (counters and diagnostics), ``processor`` (StreamProcessor, which holds them per camera),
``latest`` (the keep-latest intake: LatestSlot and its FrameWorker thread).
"""

from llie_core.stream.gate import FrameGate
from llie_core.stream.latest import FrameWorker, LatestSlot
from llie_core.stream.loss import LossCounter
from llie_core.stream.processor import FixedModel, FrameStats, ModelSource, StreamFrame, StreamProcessor, StreamSettings
from llie_core.stream.stats import DIAG_ERROR, DIAG_OK, DIAG_WARN, StatsCounter, StatsSnapshot
from llie_core.stream.temporal import Ema, StateModel

__all__ = [
    "DIAG_ERROR",
    "DIAG_OK",
    "DIAG_WARN",
    "Ema",
    "FixedModel",
    "FrameGate",
    "FrameStats",
    "FrameWorker",
    "LatestSlot",
    "LossCounter",
    "ModelSource",
    "StateModel",
    "StatsCounter",
    "StatsSnapshot",
    "StreamFrame",
    "StreamProcessor",
    "StreamSettings",
]
