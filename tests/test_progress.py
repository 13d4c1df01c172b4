"""Progress lines of long commands: on stderr, only when stderr is a terminal, off with
--quiet, never on stdout (so --json stays parseable)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from gemsym.cli import main
from gemsym.progress import Progress


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal (what ``isatty`` tells every program)."""

    def isatty(self) -> bool:
        return True


def _lines(text: str) -> list[str]:
    """The distinct texts drawn on the progress row (each redraw starts with a CR)."""
    return [part.strip() for part in text.split("\r") if part.strip()]


def test_progress_draws_on_a_terminal_and_erases_at_the_end():
    term = FakeTerminal()
    with Progress("figures", stream=term) as progress:
        progress(1, 12, "gates")
        progress(3, 12, "lipschitz")
        progress(4, 12, "")
    assert _lines(term.getvalue()) == ["figures: 1/12 gates", "figures: 3/12 lipschitz",
                                       "figures: 4/12"]
    # the last redraw is blanks: the command's own output starts on a clean row
    assert term.getvalue().endswith("\r") and term.getvalue().split("\r")[-2].strip() == ""


def test_progress_pads_a_shorter_line_over_a_longer_one():
    term = FakeTerminal()
    progress = Progress("prove", stream=term)
    progress(1, 2, "smoothness-se-gem")
    progress(2, 2, "lp-sqish")
    first, second = term.getvalue().split("\r")[1:3]
    assert len(second) == len(first) and second.rstrip() == "prove: 2/2 lp-sqish"


def test_progress_is_silent_on_a_pipe_and_when_quiet():
    pipe = io.StringIO()  # isatty() is False, as for a file or a pipe
    with Progress("bench", stream=pipe) as progress:
        progress(1, 2, "relu")
    assert pipe.getvalue() == ""
    term = FakeTerminal()
    with Progress("bench", quiet=True, stream=term) as progress:
        progress(1, 2, "relu")
    assert term.getvalue() == ""


def test_progress_survives_a_closed_terminal():
    term = FakeTerminal()
    progress = Progress("figures", stream=term)
    term.close()
    progress(1, 2, "gates")  # no exception: the command goes on without its progress line
    progress.close()


PROVE = ["prove", "--only", "smoothness-gem", "--only", "smoothness-sqish"]


def test_prove_shows_progress_on_a_terminal_stderr_only(tmp_path, capsys, monkeypatch):
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert main(PROVE + ["--out", str(tmp_path / "p")]) == 0
    assert _lines(term.getvalue()) == ["prove: 1/2 smoothness-gem", "prove: 2/2 smoothness-sqish"]
    out = capsys.readouterr().out
    assert "prove:" not in out and out.startswith("wrote 2 theorems")


def test_prove_quiet_shows_no_progress(tmp_path, capsys, monkeypatch):
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert main(PROVE + ["--out", str(tmp_path / "p"), "--quiet"]) == 0
    assert term.getvalue() == ""


def test_prove_through_a_pipe_shows_no_progress(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gemsym", *PROVE, "--out", str(tmp_path / "p")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and "prove:" not in proc.stdout


def test_figures_show_progress_on_a_terminal(tmp_path, capsys, monkeypatch):
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    args = ["figures", "--only", "gates", "gem", "--format", "png", "--jobs", "1"]
    assert main(args + ["--out", str(tmp_path / "f")]) == 0
    # in the order of the figure registry, whatever the order asked
    assert _lines(term.getvalue()) == ["figures: 1/2 gem", "figures: 2/2 gates"]
    assert "figures:" not in capsys.readouterr().out


def test_bench_json_stdout_stays_clean_with_progress_on_stderr(capsys, monkeypatch):
    pytest.importorskip("torch")
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    args = ["bench", "--numel", "4096", "--repeat", "1", "--only", "relu", "--impl", "torch",
            "--json"]
    assert main(args) == 0
    records = json.loads(capsys.readouterr().out)  # stdout is the JSON list and nothing else
    assert records and all(r["op"] == "relu" for r in records)
    drawn = _lines(term.getvalue())
    assert drawn and all(line.startswith("bench: ") for line in drawn)
    done, total = drawn[-1].split()[1].split("/")
    assert done == total
