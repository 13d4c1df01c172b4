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
                        help="draw the figures of this family (repeatable; a built-in name or "
                        "module:attribute): for gem, e-gem, se-gem and sqish those of the full "
                        "run; for any other, family_<name>: f, f' and f'' at its defaults and "
                        "its declared limit, with the data as CSV. Other figures in --out are kept")
    parser.add_argument("--list", action="store_true", help="list the figure names and exit")
    add_quiet_argument(parser)


def figures_of(name: str, names) -> list[str]:
    """The figures about family ``name``: named by its identifier, alone or as a prefix
    (``sqish``, ``sqish_distance``)."""
    ident = name.replace("-", "_")
    return [n for n in names if n == ident or n.startswith(ident + "_")]


def _family_figures(families: list[str], names) -> tuple[list[str], list]:
    """The registry's figures of the named families, and the figures
    (:func:`gemsym.figures.family.family_figure`) of the others."""
    from ..families import get_family
    from ..figures.family import family_figure

    wanted: list[str] = []
    extra: list = []
    for name in families:
        act = get_family(name)  # a user module that fails is reported as such first
        found = figures_of(act.name, names) if ":" not in name else []
        if found:
            wanted += [n for n in found if n not in wanted]
            continue
        act.with_defaults()  # a family without defaults is bad input before any folder
        fig = family_figure(act)
        if all(f.name != fig.name for f in extra):
            extra.append(fig)
    return wanted, extra


def run(args: argparse.Namespace) -> int:
    # Imported here: matplotlib stays off the other commands' path.
    from ..figures import FIGURES, generate

    if args.list:
        for name, fig in FIGURES.items():
            print(f"{name:<16} {fig.caption}")
        return 0
    only = args.only
    extra: list = []
    if args.family:
        chosen, extra = _family_figures(args.family, FIGURES)
        if extra and only:
            raise ValueError(f"--only selects registry figures; {extra[0].name} is drawn "
                             "with --family alone")
        only = chosen if only is None else [n for n in only if n in chosen]
        if not only and not extra:
            raise ValueError("--only and --family select no figure in common")
    command = None  # the registry's default regeneration line
    if extra:
        command = (f"gemsym figures {' '.join(f'--family {n}' for n in args.family)} "
                   f"--out {args.out} --format {args.format}"
                   + (f" --style {args.style}" if args.style != "paper" else ""))
    t0 = time.perf_counter()
    with Progress("figures", quiet=args.quiet) as progress:
        result = generate(args.out, args.format, only, args.style, jobs=args.jobs,
                          progress=progress, extra=extra, command=command)
    print(f"wrote {len(result['written'])} figures to {args.out} in "
          f"{time.perf_counter() - t0:.1f} s: " + ", ".join(result["written"]))
    if result["skipped"]:
        print("skipped (input absent): " + ", ".join(result["skipped"]))
    return 0
