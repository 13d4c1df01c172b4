"""Paper and slide styles: widths, fonts, the Okabe-Ito palette, and deterministic saving.

Fonts are matplotlib's own STIX (serif text, STIX mathtext), which match a Times-based
LaTeX paper without a TeX install.  Colours are the Okabe-Ito colour-blind-safe palette;
every series also gets its own line style, so a figure reads in grayscale.  Saving strips
every timestamp and version string, so a figure is byte-identical run to run.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

__all__ = ["Style", "STYLES", "PALETTE", "LINESTYLES", "MARKERS", "series_style", "use", "save"]

#: Okabe & Ito (2008), black first; yellow last (weak on white).
PALETTE = (
    "#000000",  # black
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
)

LINESTYLES = (
    "-",
    "--",
    "-.",
    ":",
    (0, (5, 1, 1, 1, 1, 1)),
    (0, (8, 2)),
    (0, (1, 1)),
    (0, (3, 1, 1, 1)),
)

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


@dataclass(frozen=True)
class Style:
    """A figure style: column widths in inches and the matplotlib settings."""

    name: str
    single: float
    double: float
    rc: tuple[tuple[str, object], ...]

    def width(self, kind: str) -> float:
        if kind not in ("single", "double"):
            raise ValueError(f"width must be 'single' or 'double' (got {kind!r})")
        return self.single if kind == "single" else self.double


_COMMON: dict[str, object] = {
    "font.family": "serif",
    "font.serif": ["STIXGeneral", "DejaVu Serif"],
    "mathtext.fontset": "stix",
    "axes.unicode_minus": True,
    "axes.grid": True,
    "grid.linewidth": 0.4,
    "grid.alpha": 0.35,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "legend.handlelength": 2.6,
    "figure.constrained_layout.use": True,
    "savefig.dpi": 300,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "pdf.compression": 6,
    "svg.fonttype": "path",
    "svg.hashsalt": "gemsym",
    "path.simplify": False,
    "image.interpolation": "nearest",
}

_PAPER = dict(
    _COMMON,
    **{
        "font.size": 8,
        "axes.labelsize": 8,
        "axes.titlesize": 8,
        "legend.fontsize": 7,
        "xtick.labelsize": 7,
        "ytick.labelsize": 7,
        "lines.linewidth": 1.1,
        "lines.markersize": 3.5,
        "axes.linewidth": 0.6,
    },
)

_SLIDES = dict(
    _COMMON,
    **{
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
        "mathtext.fontset": "dejavusans",
        "font.size": 12,
        "axes.labelsize": 12,
        "axes.titlesize": 12,
        "legend.fontsize": 10,
        "xtick.labelsize": 10,
        "ytick.labelsize": 10,
        "lines.linewidth": 2.0,
        "lines.markersize": 6,
        "axes.linewidth": 1.0,
    },
)

STYLES: dict[str, Style] = {
    "paper": Style("paper", 3.25, 6.75, tuple(_PAPER.items())),
    "slides": Style("slides", 5.0, 10.0, tuple(_SLIDES.items())),
}


def series_style(i: int, marker: bool = False) -> dict:
    """Colour, line style (and marker) of the i-th series: distinct in colour and in
    grayscale."""
    out = {"color": PALETTE[i % len(PALETTE)], "linestyle": LINESTYLES[i % len(LINESTYLES)]}
    if marker:
        out["marker"] = MARKERS[i % len(MARKERS)]
    return out


@contextlib.contextmanager
def use(style: Style) -> Iterator[None]:
    """Apply ``style`` (on matplotlib's defaults, so nothing from a user rc leaks in)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    with plt.style.context("default"), matplotlib.rc_context(dict(style.rc)):
        yield


_METADATA = {
    "pdf": {"CreationDate": None, "Producer": None, "Creator": None},
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
}


def save(fig, path: str, fmt: str) -> None:
    """Write ``fig`` to ``path`` as ``fmt`` (pdf, png, svg) without timestamps."""
    if fmt not in _METADATA:
        raise ValueError(f"format must be one of {', '.join(_METADATA)} (got {fmt!r})")
    fig.savefig(path, format=fmt, metadata=_METADATA[fmt])
