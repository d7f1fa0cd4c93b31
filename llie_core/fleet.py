"""Fan out independent evaluation tasks: in this process one after another, or as Ray tasks on a cluster.

Tasks and their results are plain data (paths, model specs, numbers, arrays, report pages): a worker builds
its own enhancers and detector from the specs and its local files, so Ray ships only specs and results, never a
model. The serial run calls the same task function in this process; it is the reference the Ray run must equal.

Ray (extra ``fleet``) is imported only when asked for. Addresses: ``local`` starts a private Ray instance on
this machine (``workers`` CPUs, no dashboard, no usage statistics, bound to 127.0.0.1) and stops it afterwards;
``auto`` joins the cluster this machine belongs to; ``ray://HEAD:10001`` connects through the Ray client. A Ray
already initialised in this process (a test session, a notebook) is used as it is and left running.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tqdm import tqdm

LOCAL = "local"

T = TypeVar("T")
R = TypeVar("R")


class FleetError(RuntimeError):
    """Ray is missing or cannot be reached; the text says which address and why."""


def local_ray_options(workers: int | None = None) -> dict[str, Any]:
    """``ray.init`` arguments of a private instance on this machine that reaches no network."""
    return {
        "address": LOCAL,
        "num_cpus": workers or os.cpu_count() or 1,
        "include_dashboard": False,
        "_node_ip_address": "127.0.0.1",
        "logging_level": logging.WARNING,
    }


def import_ray() -> Any:
    """The ray module with usage statistics off; FleetError naming the extra when it is not installed."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise FleetError("--ray needs Ray: pip install 'llie[fleet]' (or pip install ray)") from None
    return ray


def _connect(address: str, workers: int | None) -> tuple[Any, bool]:
    """(ray, whether this call started it): an initialised Ray as is, else a local instance or the cluster."""
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    try:
        if address == LOCAL:
            ray.init(**local_ray_options(workers))
        else:
            ray.init(address=address, logging_level=logging.WARNING)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError... for a bad address
        raise FleetError(f"cannot start or reach Ray at {address!r}: {exc}") from exc
    return ray, True


def run_tasks(
    function: Callable[[T], R],
    tasks: Sequence[T],
    address: str | None = None,
    workers: int | None = None,
    cpus_per_task: float = 1.0,
    failed: Callable[[T, str], R] | None = None,
    each: Callable[[int, R], R] | None = None,
    desc: str = "tasks",
    progress: bool = True,
) -> list[R]:
    """``[function(task) for task in tasks]``, serially (``address`` None) or as Ray tasks, in the tasks' order.

    ``function`` must be importable by the workers (a module-level function of llie_core). ``failed(task,
    reason)`` stands in for a task Ray could not run (worker lost, out of memory); without it that error is
    raised. ``each(index, result)`` sees every result as it arrives (write it out, drop what is not kept) and
    returns what is kept. ``workers``: CPUs of a local instance; ``cpus_per_task``: CPUs Ray reserves per task.
    """
    keep = each or (lambda _, result: result)
    if address is None:
        return [keep(i, function(t)) for i, t in enumerate(tqdm(tasks, desc=desc, unit="task", disable=not progress))]
    ray, started = _connect(address, workers)
    try:
        remote = ray.remote(num_cpus=cpus_per_task, max_retries=0)(function)
        refs = [remote.remote(t) for t in tasks]
        index = {ref: i for i, ref in enumerate(refs)}
        results: list[Any] = [None] * len(refs)
        pending = list(refs)
        with tqdm(total=len(refs), desc=f"{desc} (ray)", unit="task", disable=not progress) as bar:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    i = index[ref]
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        if failed is None:
                            raise
                        result = failed(tasks[i], f"Ray could not run the task: {exc}")
                    results[i] = keep(i, result)
                    bar.update()
        return results
    finally:
        if started:
            ray.shutdown()
