"""``gemsym bench``: time forward, backward and forward+backward of the generated ops against
``torch.relu``, ``F.gelu``, ``F.silu`` and the naive formulas, eager and compiled."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--numel", type=int, default=None,
                        help="elements of the input (default: 2^24 on cpu, 2^26 on cuda)")
    parser.add_argument("--dtype", default="float32", help="float32, bfloat16 or float16 (default: float32)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed rounds per case and pass (default: 15 on cpu, 50 on cuda)")
    parser.add_argument("--only", nargs="+", metavar="OP", default=None,
                        help="ops to time: gem e-gem se-gem sqish relu gelu silu (relu is always timed)")
    parser.add_argument("--impl", nargs="+", metavar="IMPL", default=None,
                        help="implementations: torch_bridge torch_bridge+compile naive naive+compile "
                             "torch torch+compile (default: all)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the records as a JSON list")
    out.add_argument("--markdown", action="store_true", help="print Markdown tables and target checks")
    parser.add_argument("--load", metavar="FILE", default=None,
                        help="render the records of an earlier --json run instead of measuring")


class _Bar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self) -> None:
        self.on = sys.stderr.isatty()

    def __call__(self, done: int, total: int, label: str) -> None:
        if not self.on:
            return
        width = 30
        fill = int(width * done / max(total, 1))
        sys.stderr.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total} {label[:60]:<60}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.on:
            sys.stderr.write("\r" + " " * 110 + "\r")
            sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    from ..bench import markdown_tables, targets_text, text_table

    failed: list[str] = []
    if args.load:
        try:
            with open(args.load) as fh:
                records = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"--load {args.load!r}: cannot read a JSON record list ({exc})") from exc
    else:
        from ..bench import BenchConfig, run_bench, validate

        config = validate(BenchConfig(
            device=args.device, numel=args.numel, dtype=args.dtype, repeat=args.repeat,
            ops=tuple(args.only) if args.only else None, impls=tuple(args.impl) if args.impl else None,
            threads=args.threads,
        ))
        bar = _Bar()
        try:
            result = run_bench(config, progress=bar)
        finally:
            bar.close()
        records, failed = result.records, result.failed
        for line in result.skipped:
            sys.stderr.write(f"gemsym bench: warning: {line}\n")
        for line in failed:
            sys.stderr.write(f"gemsym bench: case failed: {line}\n")
    if args.json:
        json.dump(records, sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.markdown:
        sys.stdout.write(markdown_tables(records))
    else:
        print(text_table(records))
        checks = targets_text(records)
        if checks:
            print("\n" + checks)
    return 1 if failed else 0
