"""Progress of a long command, as one line on stderr redrawn in place.

``figures: 3/12 lipschitz`` says that 3 of 12 steps are done, the last one being
``lipschitz``.  The line is drawn only when stderr is a terminal and the user did not ask
for ``--quiet``; it never goes to stdout, so ``--json`` output stays clean, and it is erased
when the command ends, so nothing of it stays in a terminal's scroll-back.

Any long computation takes a ``progress`` callable with the signature of
:class:`Progress.__call__`, ``(done, total, label)``, and calls it after each step; the
command wraps its run in ``with Progress("name", quiet=args.quiet) as progress:``.
"""

from __future__ import annotations

import shutil
import sys
from typing import Callable, TextIO

__all__ = ["Progress", "ProgressCallback", "add_quiet_argument"]

#: What a long computation calls after each step: ``(done, total, label)``.
ProgressCallback = Callable[[int, int, str], None]


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # closed or replaced streams
        return False


class Progress:
    """``command: done/total label`` on ``stream`` (stderr by default), only when that
    stream is a terminal and ``quiet`` is false; otherwise every call does nothing."""

    def __init__(self, command: str, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.command = command
        self.stream = sys.stderr if stream is None else stream
        self.enabled = not quiet and _is_terminal(self.stream)
        self._shown = 0  # characters of the line now on the terminal

    def __call__(self, done: int, total: int, label: str = "") -> None:
        if not self.enabled:
            return
        text = f"{self.command}: {done}/{total}" + (f" {label}" if label else "")
        # one terminal row: a line that wraps could not be redrawn in place
        columns = shutil.get_terminal_size(fallback=(80, 24)).columns
        text = text[: max(columns - 1, 1)]
        self._write("\r" + text + " " * max(self._shown - len(text), 0))
        self._shown = len(text)

    def close(self) -> None:
        """Erase the line (the command's own output then starts on a clean row)."""
        if self.enabled and self._shown:
            self._write("\r" + " " * self._shown + "\r")
            self._shown = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a terminal that went away must not fail the command
            self.enabled = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def add_quiet_argument(parser) -> None:
    """The ``--quiet`` option of every command that reports progress."""
    parser.add_argument("--quiet", action="store_true",
                        help="no progress line on stderr (it is shown only on a terminal anyway)")
