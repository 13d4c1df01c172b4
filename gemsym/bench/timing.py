"""Wall-clock measurement: per-call timers for CPU and CUDA, quantiles, interleaved rounds.

Every case of a benchmark is timed once per *round*, and rounds repeat ``repeat`` times, so
that a slow period of a shared machine (other processes on the same two cores) hits every
case alike instead of biasing the cases measured during it; the ratios between cases are
what the benchmark reports.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

__all__ = ["Summary", "quantile", "summarize", "Timer"]


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0 <= q <= 1) of ``values`` by linear interpolation between order
    statistics (NumPy's default ``linear`` method)."""
    if not values:
        raise ValueError("quantile of an empty sequence (got [])")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1] (got {q!r})")
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


@dataclass(frozen=True)
class Summary:
    """Median and 20th/80th percentiles of repeated timings, in milliseconds."""

    median_ms: float
    p20_ms: float
    p80_ms: float
    runs: int


def summarize(seconds: Sequence[float]) -> Summary:
    """Median, 20th and 80th percentile of per-call times given in seconds, as milliseconds."""
    ms = [1e3 * t for t in seconds]
    return Summary(quantile(ms, 0.5), quantile(ms, 0.2), quantile(ms, 0.8), len(ms))


class Timer:
    """Times one call ``work(state)`` after an untimed ``prepare()`` on ``device``.

    CPU: ``time.perf_counter`` around the call.  CUDA: the device is synchronised after
    ``prepare``, a spin kernel keeps it busy for about a millisecond while the host
    enqueues the start event, the call and the end event, which is then waited for: the
    time is the GPU time of the work alone.  Without the spin the host's dispatch latency
    (measured on an H100: about 8 us for ``torch.relu``, 35-130 us for Python-level ops
    such as compiled graphs and ``torch.library`` ops) would lie between the events on
    an idle GPU, which a training loop hides by running ahead of the GPU.
    """

    #: GPU clock cycles of the spin before each timed call (about 1 ms at 2 GHz).
    SPIN_CYCLES = 2_000_000

    def __init__(self, device: str, clock: str = "wall"):
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda' (got {device!r})")
        if clock not in ("wall", "cpu") or (clock == "cpu" and device != "cpu"):
            raise ValueError(f"clock must be 'wall', or 'cpu' on the CPU (got {clock!r} on {device})")
        self.device = device
        # "cpu": the process's CPU time -- what the calls cost, not the minutes the
        # scheduler gave other processes on a shared machine (equal to wall time when
        # the process runs alone)
        self._clock = time.process_time if clock == "cpu" else time.perf_counter
        if device == "cuda":
            import torch

            self._torch = torch
            self._start = torch.cuda.Event(enable_timing=True)
            self._end = torch.cuda.Event(enable_timing=True)

    def synchronize(self) -> None:
        if self.device == "cuda":
            self._torch.cuda.synchronize()

    def time(self, prepare: Callable[[], Any], work: Callable[[Any], Any], calls: int = 1) -> float:
        """Seconds taken by ``work(prepare())``, ``prepare`` excluded; the results of both
        are dropped before returning so that their memory is free for the next case.
        ``calls`` > 1 (CPU): that many ``prepare()`` first, then the ``work`` calls timed
        together, and the mean per call (calls of microseconds are then not one timer
        reading each, which a shared machine's scheduling would dominate)."""
        if calls > 1 and self.device == "cpu":
            states = [prepare() for _ in range(calls)]
            t0 = self._clock()
            for state in states:
                out = work(state)
            seconds = (self._clock() - t0) / calls
            del out, states
            return seconds
        state = prepare()
        if self.device == "cuda":
            self._torch.cuda.synchronize()
            self._torch.cuda._sleep(self.SPIN_CYCLES)
            self._start.record()
            out = work(state)
            self._end.record()
            self._end.synchronize()
            seconds = self._start.elapsed_time(self._end) / 1e3
        else:
            t0 = self._clock()
            out = work(state)
            seconds = self._clock() - t0
        del out, state
        return seconds
