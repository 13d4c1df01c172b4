"""``gemsym figures``: paper-ready figures (PDF/PNG/SVG) with their data as CSV."""

from __future__ import annotations

import argparse
import time

from ..progress import Progress, add_quiet_argument


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
    parser.add_argument("--family", action="append", metavar="NAME",
                        help="draw only the figures of this family (repeatable): gem, e-gem, "
                        "se-gem or sqish; other families, module:attribute ones included, "
                        "have no figure yet and are refused")
    parser.add_argument("--list", action="store_true", help="list the figure names and exit")
    add_quiet_argument(parser)


def figures_of(name: str, names) -> list[str]:
    """The figures about family ``name``: named by its identifier, alone or as a prefix
    (``sqish``, ``sqish_distance``)."""
    ident = name.replace("-", "_")
    return [n for n in names if n == ident or n.startswith(ident + "_")]


def _family_figures(families: list[str], names) -> list[str]:
    from ..families import get_family

    wanted: list[str] = []
    for name in families:
        act = get_family(name)  # a user module that fails is reported as such first
        found = figures_of(act.name, names) if ":" not in name else []
        if not found:
            raise ValueError(
                f"--family {name!r}: the figures are drawn for gem, e-gem, se-gem and sqish "
                f"only; figures of other families are not supported yet"
            )
        wanted += [n for n in found if n not in wanted]
    return wanted


def run(args: argparse.Namespace) -> int:
    # Imported here: matplotlib stays off the other commands' path.
    from ..figures import FIGURES, generate

    if args.list:
        for name, fig in FIGURES.items():
            print(f"{name:<16} {fig.caption}")
        return 0
    only = args.only
    if args.family:
        chosen = _family_figures(args.family, FIGURES)
        only = chosen if only is None else [n for n in only if n in chosen]
        if not only:
            raise ValueError("--only and --family select no figure in common")
    t0 = time.perf_counter()
    with Progress("figures", quiet=args.quiet) as progress:
        result = generate(args.out, args.format, only, args.style, jobs=args.jobs,
                          progress=progress)
    print(f"wrote {len(result['written'])} figures to {args.out} in "
          f"{time.perf_counter() - t0:.1f} s: " + ", ".join(result["written"]))
    if result["skipped"]:
        print("skipped (input absent): " + ", ".join(result["skipped"]))
    return 0
