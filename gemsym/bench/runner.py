"""Running the benchmark: validate the configuration, warm every case up (compiling first),
then time the passes in interleaved rounds and turn the timings into records.

Passes, on one input ``x`` of ``numel`` standard-normal values (seed 0):

- ``fwd``: ``f(x)`` under ``torch.no_grad()`` (inference);
- ``bwd``: ``torch.autograd.grad(y, (x, *learnable), grad_y)`` for a ``y = f(x)`` taken
  (untimed) just before with gradients enabled;
- ``fwd+bwd``: both, timed together (a training step of the activation).

Gradients are returned by ``torch.autograd.grad`` rather than accumulated into ``.grad``, so
no accumulation kernel is timed.
"""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from .report import PASSES, make_records
from .timing import Summary, Timer, summarize

__all__ = ["BenchConfig", "BenchResult", "validate", "run_bench", "DTYPES", "DEVICES"]

DTYPES = ("float32", "bfloat16", "float16")
DEVICES = ("cpu", "cuda")
DEFAULT_NUMEL = {"cpu": 2**24, "cuda": 2**26}
DEFAULT_REPEAT = {"cpu": 15, "cuda": 50}
#: with no --repeat: seconds of timed calls aimed at per case and pass, and the fewest rounds
AUTO_BUDGET_S = 2.0
MIN_ROUNDS = 5
#: the most calls one timed sample repeats (``BenchConfig.min_sample_s``)
MAX_CALLS = 1000

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BenchConfig:
    """What to run; ``None`` means the device's default (numel 2^24 on CPU, 2^26 on CUDA;
    threads: torch's default).  ``repeat=None``: up to 15 timed rounds on CPU (50 on CUDA),
    fewer (never under 5) for a case whose calls would take more than ``budget_s`` seconds
    in all; an explicit ``repeat`` times every case exactly that often."""

    device: str = "cpu"
    numel: int | None = None
    dtype: str = "float32"
    repeat: int | None = None
    ops: tuple[str, ...] | None = None
    impls: tuple[str, ...] | None = None
    threads: int | None = None
    warmup: int = 2
    budget_s: float | None = None
    #: CPU: each timed sample repeats a call until it lasts about this long (None: one call)
    min_sample_s: float | None = None
    #: "wall" (perf_counter) or, on the CPU, "cpu" (the process's CPU time: see ``Timer``)
    clock: str = "wall"


@dataclass
class BenchResult:
    config: BenchConfig
    records: list[dict[str, Any]]
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def validate(config: BenchConfig) -> BenchConfig:
    """The configuration with defaults filled in; ``ValueError`` naming the bad field."""
    from .cases import IMPLS, OPS

    if config.device not in DEVICES:
        raise ValueError(f"--device must be one of {', '.join(DEVICES)} (got {config.device!r})")
    if config.dtype not in DTYPES:
        raise ValueError(f"--dtype must be one of {', '.join(DTYPES)} (got {config.dtype!r})")
    numel = DEFAULT_NUMEL[config.device] if config.numel is None else config.numel
    if not isinstance(numel, int) or numel < 1:
        raise ValueError(f"--numel must be an integer >= 1 (got {numel!r})")
    repeat = DEFAULT_REPEAT[config.device] if config.repeat is None else config.repeat
    budget = (AUTO_BUDGET_S if config.budget_s is None else config.budget_s) if config.repeat is None else None
    if not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"--repeat must be an integer >= 1 (got {repeat!r})")
    if config.threads is not None and (not isinstance(config.threads, int) or config.threads < 1):
        raise ValueError(f"--threads must be an integer >= 1 (got {config.threads!r})")
    if config.clock not in ("wall", "cpu") or (config.clock == "cpu" and config.device != "cpu"):
        raise ValueError(f"--clock must be wall, or cpu with --device cpu (got {config.clock!r} "
                         f"with --device {config.device})")
    if config.warmup < 1:
        raise ValueError(f"warmup must be >= 1 (got {config.warmup!r})")
    ops = tuple(config.ops) if config.ops else OPS
    for op in ops:
        if op not in OPS:
            raise ValueError(f"--only must name ops among {', '.join(OPS)} (got {op!r})")
    impls = tuple(config.impls) if config.impls else IMPLS
    for impl in impls:
        if impl not in IMPLS:
            raise ValueError(f"--impl must be among {', '.join(IMPLS)} (got {impl!r})")
    if config.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ValueError("--device cuda: no CUDA device is available (torch.cuda.is_available() is False)")
    return replace(config, numel=numel, repeat=repeat, budget_s=budget, ops=tuple(dict.fromkeys(ops)),
                   impls=tuple(dict.fromkeys(impls)))


def _device_name(device: str) -> str:
    if device == "cuda":
        import torch

        return torch.cuda.get_device_name()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _allocator() -> str:
    """How large CPU buffers are allocated: glibc's default (each 64 MiB buffer is a fresh
    mmap whose pages the kernel zero-fills on first touch) unless the environment keeps
    freed memory for reuse."""
    keys = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "LD_PRELOAD")
    set_ = [f"{k}={os.environ[k]}" for k in keys if os.environ.get(k)]
    return " ".join(set_) if set_ else "glibc default"


def _pass_fns(case, x, xg, grad_y) -> dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]]:
    import torch

    inputs = (xg, *case.parameters)

    def fwd_prepare():
        return None

    def fwd_work(_):
        with torch.no_grad():
            return case.forward(x)

    def bwd_prepare():
        return case.forward(xg)

    def bwd_work(y):
        return torch.autograd.grad(y, inputs, grad_y)

    def fb_work(_):
        y = case.forward(xg)
        return torch.autograd.grad(y, inputs, grad_y)

    return {"fwd": (fwd_prepare, fwd_work), "bwd": (bwd_prepare, bwd_work), "fwd+bwd": (fwd_prepare, fb_work)}


def _copy_seconds(timer: Timer, x, repeat: int) -> Summary:
    """Device-to-device copy of ``x`` into a preallocated buffer: the bandwidth reference."""
    import torch

    dst = torch.empty_like(x)
    timer.time(lambda: None, lambda _: dst.copy_(x))
    return summarize([timer.time(lambda: None, lambda _: dst.copy_(x)) for _ in range(repeat)])


def _peak_memory(timer: Timer, work: Callable[[Any], Any]) -> int:
    """Bytes allocated at the peak of one forward+backward beyond what was allocated before."""
    import torch

    timer.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    out = work(None)
    timer.synchronize()
    peak = torch.cuda.max_memory_allocated() - base
    del out
    return int(peak)


def run_bench(config: BenchConfig, progress: Progress | None = None) -> BenchResult:
    """Time every case of ``config`` on all three passes in one process; see the module
    docstring for what each pass times."""
    import torch

    from .cases import build_cases

    config = validate(config)
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    threads = torch.get_num_threads()
    # a fresh compile cache per run: every torch_bridge module shares one forward code
    # object, so a sweep's earlier sizes would pile up cache entries on it (each guard
    # checked on every call) until Dynamo's recompile limit ran later sizes eagerly
    torch._dynamo.reset()
    dyn = torch._dynamo.config
    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(dyn, name):
            setattr(dyn, name, max(64, getattr(dyn, name)))
    dtype = getattr(torch, config.dtype)
    device = config.device
    gen = torch.Generator(device="cpu").manual_seed(0)
    x = torch.randn(config.numel, generator=gen).to(device=device, dtype=dtype)
    grad_y = torch.randn(config.numel, generator=gen).to(device=device, dtype=dtype)
    xg = x.detach().clone().requires_grad_(True)
    cases, skipped = build_cases(config.ops, config.impls, device)
    timer = Timer(device, config.clock)
    total = len(cases) * (1 + config.repeat * len(PASSES))
    done = 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, label)

    failed: list[str] = []
    live = []
    fns = {}
    rounds: dict[tuple[int, str], int] = {}
    calls: dict[tuple[int, str], int] = {}
    for case in cases:  # warm-up; torch.compile compiles here
        try:
            f = _pass_fns(case, x, xg, grad_y)
            for _ in range(config.warmup):
                last = {p: timer.time(*f[p]) for p in PASSES}
            fns[id(case)] = f
            live.append(case)
            for p in PASSES:
                k = 1
                if config.min_sample_s and device == "cpu":
                    k = min(MAX_CALLS, max(1, math.ceil(config.min_sample_s / max(last[p], 1e-9))))
                calls[(id(case), p)] = k
                n = config.repeat
                if config.budget_s is not None:
                    n = min(n, max(MIN_ROUNDS, math.ceil(config.budget_s / max(k * last[p], 1e-9))))
                rounds[(id(case), p)] = n
                done += config.repeat - n
        except Exception as exc:
            failed.append(f"{case.label}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            done += config.repeat * len(PASSES)
        tick(f"warm-up {case.label}")
    times: dict[tuple[int, str], list[float]] = {(id(c), p): [] for c in live for p in PASSES}
    for p in PASSES:
        for r in range(config.repeat):  # interleaved rounds: each case once per round
            for case in live:
                if r < rounds[(id(case), p)]:
                    times[(id(case), p)].append(timer.time(*fns[id(case)][p], calls[(id(case), p)]))
                    tick(f"{p} {r + 1}/{rounds[(id(case), p)]} {case.label}")
    summaries = {(c.op, c.impl, _key(c.params), p): summarize(times[(id(c), p)]) for c in live for p in PASSES}
    extras: dict[str, Any] = {}
    if device == "cuda":
        extras["copy"] = _copy_seconds(timer, x, config.repeat)
        extras["peak_bytes"] = {(c.op, c.impl, _key(c.params)): _peak_memory(timer, fns[id(c)]["fwd+bwd"][1])
                                for c in live}
    context = {
        "device": device,
        "device_name": _device_name(device),
        "dtype": config.dtype,
        "numel": config.numel,
        "itemsize": x.element_size(),
        "repeat": config.repeat,
        "threads": threads,
        "torch_version": torch.__version__,
        "allocator": _allocator() if device == "cpu" else "torch CUDA caching allocator",
    }
    records = make_records(live, summaries, context, extras)
    return BenchResult(config, records, skipped, failed)


def _key(params: dict[str, Any]) -> tuple:
    return tuple(sorted(params.items()))
