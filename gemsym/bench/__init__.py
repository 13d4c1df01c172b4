"""Benchmarks of the generated kernels against the activations users would pick instead.

Submodules:
- ``timing``: per-call timers (CPU ``perf_counter``, CUDA events), quantiles;
- ``cases``: the ops, their parameters and implementations (torch_bridge, naive formula,
  torch anchors; eager and under ``torch.compile``);
- ``runner``: configuration, warm-up, interleaved timing rounds;
- ``report``: records (the ``--json`` schema), tables, the target checks;
- ``sweep``: the run at several sizes and the table of ratios to the anchor per size.

Importing this package imports no torch; ``run_bench`` does.
"""

from .report import PASSES, RECORD_KEYS, markdown_tables, target_checks, targets_text, text_table
from .runner import DEVICES, DTYPES, BenchConfig, BenchResult, run_bench, validate

__all__ = [
    "BenchConfig",
    "BenchResult",
    "run_bench",
    "validate",
    "DEVICES",
    "DTYPES",
    "PASSES",
    "RECORD_KEYS",
    "text_table",
    "markdown_tables",
    "target_checks",
    "targets_text",
]
