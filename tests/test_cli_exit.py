"""Exit statuses mean one thing everywhere: 0 every claim holds, 1 a claim fails, 2 bad
input, 3 cannot decide or internal error, 130 interrupted; one line on stderr and no
traceback unless ``--debug``.  User modules that fail to load, inputs past the work limits
(refused at once), and a table of ~100 bad or extreme argument lists over every command.
Run in-process through ``main(argv)`` except where a real process is the point (Ctrl-C,
the traceback printed by ``--debug``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import mpmath
import pytest

from gemsym.cli import main
from gemsym.limits import MAX_INTEGER_PARAMETER

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------ user modules
BAD_MODULES = {
    "raises_on_import": "raise RuntimeError('boom at import')\n",
    "syntax_error": "def f(:\n    pass\n",
    "exits_on_import": "import sys\nsys.exit(5)\n",
    "factories": textwrap.dedent("""
        import sympy as sp
        from gemsym import Activation, X

        def needs_args(n):
            return Activation.from_branches("p", [sp.S.Zero, X**n], [0])

        def raises():
            raise ZeroDivisionError("inside the factory")

        def not_an_activation():
            return 42

        number = 3.5
    """),
}


@pytest.fixture
def modules(tmp_path, monkeypatch):
    for name, text in BAD_MODULES.items():
        (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name in BAD_MODULES:
        sys.modules.pop(name, None)


@pytest.mark.parametrize("spec,fragments", [
    ("raises_on_import:f", ["raises_on_import", "RuntimeError: boom at import"]),
    ("syntax_error:f", ["syntax_error", "syntax error", "line 1"]),
    ("exits_on_import:f", ["exits_on_import", "SystemExit"]),
    ("factories:needs_args", ["factories", "needs_args()", "TypeError"]),
    ("factories:raises", ["factories", "ZeroDivisionError: inside the factory"]),
    ("factories:not_an_activation", ["factories", "int"]),
    ("factories:number", ["factories", "float"]),
    ("factories:missing", ["factories", "no attribute 'missing'"]),
    ("no_such_module_here:f", ["no module named 'no_such_module_here'"]),
    ("..:x", ["'..:x'", "module:attribute"]),
    ("factories:", ["'factories:'", "module:attribute"]),
    (":needs_args", ["':needs_args'", "module:attribute"]),
])
def test_user_module_failures_are_exit_2_naming_the_module(capsys, modules, spec, fragments):
    for command in (["verify-smoothness"], ["show"], ["codegen", "--out", str(modules / "tb")]):
        code, _, err = run(capsys, *command, "--family", spec)
        assert code == 2, err
        line = one_line(err)
        for fragment in fragments:
            assert fragment in line, line
    assert not (modules / "tb").exists()


# ------------------------------------------------------------------ 3 and --debug
def test_internal_error_is_exit_3_and_debug_reraises(capsys, monkeypatch):
    import gemsym.cli.show as show

    def broken(*args, **kwargs):
        return 1 / 0

    monkeypatch.setattr(show, "describe", broken)
    code, _, err = run(capsys, "show", "--family", "relu")
    assert code == 3
    assert "internal error: ZeroDivisionError" in one_line(err)
    with pytest.raises(ZeroDivisionError):
        main(["show", "--family", "relu", "--debug"])
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "show", "--family", "relu"])


def test_value_error_from_a_library_is_3_not_bad_input(capsys, monkeypatch):
    import gemsym.cli.show as show

    def library_failure(*args, **kwargs):
        return mpmath.mpf("not a number")  # ValueError raised inside mpmath

    monkeypatch.setattr(show, "describe", library_failure)
    code, _, err = run(capsys, "show", "--family", "relu")
    assert code == 3 and "internal error: ValueError" in one_line(err)


def test_undecidable_class_is_exit_3_not_1(capsys, tmp_path, monkeypatch):
    # x^p with p a symbolic exponent: the class depends on p; the answer is "cannot
    # decide" (or a case split), never the "claim fails" status
    (tmp_path / "powfam.py").write_text(textwrap.dedent("""
        import sympy as sp
        from gemsym import Activation, X
        from gemsym.parameters import real_parameter

        def power():
            p = real_parameter("p", 2, "exponent")
            return Activation.from_branches("power", [sp.S.Zero, X**p.symbol], [0],
                                            parameters=(p,), claimed_smoothness=1)
    """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    code, out, err = run(capsys, "verify-smoothness", "--family", "powfam:power", "--p", "symbolic")
    sys.modules.pop("powfam", None)
    assert code in (0, 3), (code, out, err)
    if code == 3:
        assert "cannot decide" in one_line(err)


def _env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def test_debug_prints_the_traceback_in_a_process():
    r = subprocess.run([sys.executable, "-m", "gemsym", "--debug", "show", "--order", "0",
                        "--family", "relu"], capture_output=True, text=True, env=_env(), timeout=120)
    assert r.returncode != 0 and "Traceback" in r.stderr and "--order must be" in r.stderr


def test_ctrl_c_is_130_and_interrupted(tmp_path):
    # a user family whose factory says when it is called and then works until interrupted
    # (a sleep, so the test does not depend on the machine's speed); SIGINT arrives
    # mid-way.  SIGINT is reset to its default in the child: a shell that runs the tests in
    # the background starts them with SIGINT ignored.
    (tmp_path / "slowfam.py").write_text(textwrap.dedent("""
        import sys, time
        from gemsym.families import gem
        def slow():
            print("loaded", file=sys.stderr, flush=True)
            time.sleep(60)
            return gem()
    """))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gemsym", "show", "--family", "slowfam:slow",
         "--N", str(MAX_INTEGER_PARAMETER)],
        cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stderr.readline().strip() == "loaded"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["gemsym show: interrupted"]


# ------------------------------------------------------------------ bounded work
LIMITED = [
    ["show", "--N", "1000"],
    ["properties", "--N", "200"],
    ["verify-smoothness", "--param", "N=100000"],
    ["show", "--order", "200"],
    ["show", "--derivatives", "200"],
    ["show", "--family", "gem", "--N", "32", "--order", "20"],
    ["show", "--family", "gem", "--N", "16", "--derivatives", "8"],
    ["show", "--order", "1" + "0" * 5000],
    ["lp-distance", "--dps", "2000"],
    ["lp-distance", "--p", "1e9"],
    ["lp-distance", "--p", "1/1000"],
    ["lp-distance", "--p", "3/1001"],
    ["lp-distance", "--eps", "1e999999999"],
    ["lp-distance", "--eps", "1e-401"],
    ["lp-distance", "--eps", "0." + "1" * 100],
    ["verify-smoothness", "--family", "sqish", "--beta", "1" * 500],
    ["bench", "--numel", "1e14"],
    ["bench", "--numel", "100000000000000"],
    ["bench", "--repeat", "1" + "0" * 30],
]


@pytest.mark.parametrize("argv", LIMITED, ids=lambda a: " ".join(a)[:40])
def test_past_a_limit_is_refused_at_once(capsys, argv):
    start = time.perf_counter()
    code, _, err = run(capsys, *argv)
    assert code == 2, err
    one_line(err)
    assert time.perf_counter() - start < 5


def test_huge_exponent_in_a_branch_is_refused(capsys, tmp_path, monkeypatch):
    (tmp_path / "hugepow.py").write_text(
        "import sympy as sp\nfrom gemsym import Activation, X\n"
        "big = Activation.from_branches('big', [sp.S.Zero, X**(10**6)], [0])\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for command in ("verify-smoothness", "show", "properties"):
        start = time.perf_counter()
        code, _, err = run(capsys, command, "--family", "hugepow:big")
        assert code == 2 and "MAX_EXPONENT" in one_line(err)
        assert time.perf_counter() - start < 5
    sys.modules.pop("hugepow", None)


def test_bench_load_of_a_malformed_file(capsys, tmp_path):
    cases = {"empty.json": "", "object.json": "{\"op\": 1}", "list.json": "[1, 2]",
             "keys.json": "[{\"op\": \"relu\"}]", "binary.json": b"\xff\xfe\x00"}
    for name, text in cases.items():
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        code, _, err = run(capsys, "bench", "--load", str(path))
        assert code == 2, (name, err)
        assert name in one_line(err)


# ------------------------------------------------------------------ fuzz table
FAMILY_COMMANDS = ["show", "verify-smoothness", "properties", "lp-distance"]
BAD_TAILS = [
    ["--N"], ["--N", ""], ["--N", "-1"], ["--N", "1e3"], ["--N", "0x10"], ["--N", "two"],
    ["--eps", "0"], ["--eps", "-0"], ["--eps", "inf"], ["--eps", "1/0"], ["--eps", "1e-401"],
    ["--eps", "--N"], ["--a", "1"], ["--a", "1e401"], ["--beta", "-1e-9"], ["--gamma", "oo"],
    ["--family"], ["--family", ""], ["--family", ":"], ["--family", "a:b:c"],
    ["--family", "os:getcwd"], ["--family", "gem", "--family", "nope"], ["--param"],
    ["--param", "N"], ["--param", "N="], ["--param", "=1"], ["--param", "N=1", "--N", "1"],
    ["--param", "zz=1"], ["--param", "N=symbolic", "--param", "N=2"], ["--N", "١"],
    ["--b", "1/3"], ["--bet", "2"], ["--j"], ["extra"], ["--N", "2", "--N"],
]
OTHER = [
    ["show", "--order", "-1"], ["show", "--order", "1.5"], ["show", "--derivatives", "x"],
    ["show", "--latex", "--json"], ["lp-distance", "--p", "0"], ["lp-distance", "--p", "-inf"],
    ["lp-distance", "--p", "nan"], ["lp-distance", "--p", "1e-400"], ["lp-distance", "--dps", "1.5"],
    ["lp-distance", "--dps", "-5"], ["lp-distance", "--family", "gem", "--family", "relu"],
    ["lp-distance", "--family", "relu"], ["prove", "--only", "nope"], ["prove", "--out"],
    ["figures", "--format", "gif"], ["figures", "--only", "nope"], ["figures", "--style", "x"],
    ["figures", "--jobs", "-1"], ["codegen", "--family", "nope"], ["codegen", "--out"],
    ["bench", "--device", "tpu"], ["bench", "--dtype", "int8"], ["bench", "--numel", "0"],
    ["bench", "--numel", "-5"], ["bench", "--repeat", "x"], ["bench", "--threads", "0"],
    ["bench", "--load"], ["bench", "--json", "--markdown"], ["codegen", "--family", ":"],
    ["nope"], ["--nope"], ["-h", "--bogus"], [""], ["show", "--help", "--N", "x"],
]
FUZZ = [[cmd, *tail] for cmd in FAMILY_COMMANDS for tail in BAD_TAILS[::2 if cmd != "show" else 1]] + OTHER


def test_fuzz_table_every_exit_is_a_documented_status(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything a command writes stays here
    assert len(FUZZ) >= 100
    seen = {}
    for argv in FUZZ:
        code, out, err = run(capsys, *argv)
        assert code in (0, 1, 2, 3), (argv, code, err)
        assert "Traceback" not in err and "Traceback" not in out, (argv, err)
        if code:
            assert len(err.strip().splitlines()) == 1, (argv, err)
        seen[code] = seen.get(code, 0) + 1
    # the table is mostly bad input: most of it must be refused as such
    assert seen.get(2, 0) >= 0.8 * len(FUZZ), seen


def test_broken_pipe_is_quiet(capsys, monkeypatch):
    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self):
            raise OSError("no file descriptor")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["verify-smoothness", "--family", "relu"]) == 0
    monkeypatch.undo()
    assert capsys.readouterr().err == ""
