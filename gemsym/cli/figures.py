"""``gemsym figures``: paper-ready figures (PDF/PNG/SVG) with their data as CSV."""

from __future__ import annotations

import argparse
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="figures", help="output folder (default: figures)")
    parser.add_argument("--format", default="pdf,png",
                        help="comma-separated: pdf, png, svg (default: pdf,png)")
    parser.add_argument("--only", nargs="+", action="extend", metavar="NAME",
                        help="draw only these figures (others in --out are kept)")
    parser.add_argument("--style", default="paper",
                        help="paper (3.25/6.75 in, serif) or slides (default: paper)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes collecting the data (default: CPUs, at most 4)")
    parser.add_argument("--list", action="store_true", help="list the figure names and exit")


def run(args: argparse.Namespace) -> int:
    # Imported here: matplotlib stays off the other commands' path.
    from ..figures import FIGURES, generate

    if args.list:
        for name, fig in FIGURES.items():
            print(f"{name:<16} {fig.caption}")
        return 0
    t0 = time.perf_counter()
    result = generate(args.out, args.format, args.only, args.style, jobs=args.jobs)
    print(f"wrote {len(result['written'])} figures to {args.out} in "
          f"{time.perf_counter() - t0:.1f} s: " + ", ".join(result["written"]))
    if result["skipped"]:
        print("skipped (input absent): " + ", ".join(result["skipped"]))
    return 0
