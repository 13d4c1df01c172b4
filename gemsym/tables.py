"""Tables of results rendered as text, Markdown, LaTeX (booktabs), CSV or JSON.

A :class:`Table` is built from typed cells first and rendered at the end, so every format
shows the same content: a :class:`Cell` holds its plain text, its LaTeX, its JSON value
and, where no value can be certified, the reason, which every format prints as a numbered
note (the cell itself shows an em dash).  The LaTeX is a ``table`` environment with a
booktabs ``tabular`` that compiles as pasted into a document loading ``booktabs``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FORMATS", "Cell", "Column", "Table", "render", "latex_escape", "MISSING"]

FORMATS = ("text", "markdown", "latex", "csv", "json")

#: What a cell shows when its value is not certified (its note says why).
MISSING = "\u2014"

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", MISSING: "---", "\u2032": "'"}


def latex_escape(text: str) -> str:
    """``text`` as LaTeX text mode: every special character escaped."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


@dataclass(frozen=True)
class Cell:
    """One entry: ``text`` (plain), ``latex`` (LaTeX text mode; None: ``text`` escaped),
    ``value`` (what JSON and CSV carry) and ``note`` (why there is no value)."""

    text: str
    latex: str | None = None
    value: Any = None
    note: str = ""

    @classmethod
    def missing(cls, note: str) -> "Cell":
        return cls(MISSING, None, None, note)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    latex: str = ""


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"rows: every row needs {len(self.columns)} cells (got {len(row)})")

    def numbered_notes(self) -> tuple[dict[tuple[int, int], int], list[str]]:
        """Note number of each cell with a note, and the distinct notes in order."""
        order: list[str] = []
        marks = {}
        for i, row in enumerate(self.rows):
            for j, cell in enumerate(row):
                if cell.note:
                    if cell.note not in order:
                        order.append(cell.note)
                    marks[(i, j)] = order.index(cell.note) + 1
        return marks, order


def _plain(table: Table, with_marks: bool) -> list[list[str]]:
    marks, _ = table.numbered_notes()
    return [[c.text + (f" ({marks[(i, j)]})" if with_marks and (i, j) in marks else "")
             for j, c in enumerate(row)] for i, row in enumerate(table.rows)]


def _note_lines(table: Table, prefix: str = "") -> list[str]:
    _, notes = table.numbered_notes()
    return [f"{prefix}({k}) {n}" for k, n in enumerate(notes, 1)] + list(table.notes)


def _text(table: Table) -> str:
    head = [c.title for c in table.columns]
    body = _plain(table, True)
    widths = [max(len(r[j]) for r in [head, *body]) for j in range(len(head))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in body]
    return "\n".join(([table.caption, ""] if table.caption else []) + lines
                     + ([""] + _note_lines(table) if _note_lines(table) else []))


def _markdown(table: Table) -> str:
    def row(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
    lines = [row([c.title for c in table.columns]), row(["---"] * len(table.columns))]
    lines += [row(r) for r in _plain(table, True)]
    notes = _note_lines(table)
    return "\n".join(([table.caption, ""] if table.caption else []) + lines
                     + ([""] + [n + "  " for n in notes] if notes else []))


def _latex(table: Table) -> str:
    marks, notes = table.numbered_notes()
    spec = "l" * len(table.columns)
    head = " & ".join(c.latex or latex_escape(c.title) for c in table.columns) + r" \\"
    body = []
    for i, row in enumerate(table.rows):
        cells = []
        for j, c in enumerate(row):
            tex = c.latex if c.latex is not None else latex_escape(c.text)
            if (i, j) in marks:
                tex += rf"\textsuperscript{{{marks[(i, j)]}}}"
            cells.append(tex)
        body.append(" & ".join(cells) + r" \\")
    out = [r"% needs \usepackage{booktabs}", r"\begin{table}[htbp]", r"\centering"]
    if table.caption:
        out.append(rf"\caption{{{latex_escape(table.caption)}}}")
    out += [r"\small", rf"\begin{{tabular}}{{{spec}}}", r"\toprule", head, r"\midrule", *body,
            r"\bottomrule", r"\end{tabular}"]
    extra = [rf"\textsuperscript{{{k}}}{latex_escape(n)}" for k, n in enumerate(notes, 1)]
    extra += [latex_escape(n) for n in table.notes]
    if extra:
        out += [r"\par\smallskip", r"\footnotesize", r"\begin{flushleft}",
                (r"\\" + "\n").join(extra), r"\end{flushleft}"]
    out.append(r"\end{table}")
    return "\n".join(out)


def _json_value(cell: Cell) -> Any:
    return cell.value if cell.value is not None or not cell.note else None


def _csv(table: Table) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.key for c in table.columns] + ["notes"])
    for row in table.rows:
        notes = "; ".join(f"{col.key}: {c.note}" for col, c in zip(table.columns, row) if c.note)
        w.writerow(["" if c.note and c.value is None else _csv_text(c) for c in row] + [notes])
    return buf.getvalue().rstrip("\n")


def _csv_text(cell: Cell) -> str:
    v = cell.value
    if v is None:
        return cell.text
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return str(v).lower() if isinstance(v, bool) else str(v)


def _json(table: Table) -> str:
    rows = []
    for row in table.rows:
        rec = {col.key: _json_value(c) for col, c in zip(table.columns, row)}
        rec["notes"] = {col.key: c.note for col, c in zip(table.columns, row) if c.note}
        rows.append(rec)
    return json.dumps({"columns": [{"key": c.key, "title": c.title} for c in table.columns],
                       "rows": rows, "notes": list(table.notes)}, indent=2)


def render(table: Table, fmt: str) -> str:
    """``table`` in one of :data:`FORMATS`."""
    renderers = {"text": _text, "markdown": _markdown, "latex": _latex, "csv": _csv, "json": _json}
    if fmt not in renderers:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    return renderers[fmt](table)
