"""``gemsym show`` and ``gemsym verify-smoothness`` run as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def gemsym(*args, env_extra=None, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if env_extra:
        env.update(env_extra)
        env["PYTHONPATH"] = os.pathsep.join([env_extra.get("PYTHONPATH", ""), env["PYTHONPATH"]])
    return subprocess.run([sys.executable, "-m", "gemsym", *args], capture_output=True, text=True,
                          env=env, cwd=cwd or ROOT, timeout=300)


REQUIRED = {"family", "N", "params", "junction", "smoothness", "cases", "first_mismatch_order",
            "left", "right", "claimed", "holds"}


def test_verify_json_schema_and_values():
    r = gemsym("verify-smoothness", "--N", "2", "--json")
    assert r.returncode == 0, r.stderr
    records = json.loads(r.stdout)
    assert [rec["family"] for rec in records] == ["gem", "e-gem", "se-gem", "sqish"]
    for rec in records:
        assert REQUIRED <= set(rec)
        assert rec["holds"] is True
    by = {rec["family"]: rec for rec in records}
    assert by["gem"]["smoothness"] == 4 and by["gem"]["first_mismatch_order"] == 5
    assert by["gem"]["left"] == "0" and by["gem"]["right"] == "120"
    assert by["se-gem"]["cases"] == [{"condition": "eps = 1", "smoothness": 8, "first_mismatch_order": 9,
                                      "left": "0", "right": "-362880",
                                      "condition_data": {"lhs": "eps", "relation": "=", "rhs": "1"}}]
    assert by["sqish"]["smoothness"] == "inf" and by["sqish"]["junction"] is None


def test_verify_symbolic_N_is_an_expression():
    r = gemsym("verify-smoothness", "--N", "symbolic", "--json")
    assert r.returncode == 0, r.stderr
    by = {rec["family"]: rec for rec in json.loads(r.stdout)}
    assert by["e-gem"]["smoothness"] == "2*N" and by["e-gem"]["N"] == "symbolic"
    assert by["se-gem"]["cases"][0]["smoothness"] == "4*N"


def test_verify_text_output_mentions_each_family():
    r = gemsym("verify-smoothness", "--N", "3", "--eps", "1/10000")
    assert r.returncode == 0, r.stderr
    assert "C^6" in r.stdout and "holds" in r.stdout and "FAILS" not in r.stdout


@pytest.mark.parametrize("args,fragment", [
    (["--N", "0"], "N must be a positive integer"),
    (["--N", "1.5"], "N must be a positive integer"),
    (["--N", "-3"], "N must be a positive integer"),
    (["--eps", "-1"], "eps must be a real number > 0"),
    (["--eps", "nan"], "eps must be a finite number"),
    (["--family", "nope"], "unknown family 'nope'"),
    (["--family", "no_such_module:thing"], "cannot be loaded"),
])
def test_bad_input_is_one_line_exit_2(args, fragment):
    r = gemsym("verify-smoothness", *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_command_and_flag_exit_2():
    assert gemsym("frobnicate").returncode == 2
    r = gemsym("verify-smoothness", "--bogus")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_user_defined_family_and_failing_claim(tmp_path):
    (tmp_path / "myacts.py").write_text(textwrap.dedent("""
        import sympy as sp
        from gemsym import Activation, X

        def overclaimed():
            # ReLU claimed C^1: the command must say the claim fails (exit 1).
            return Activation.from_branches("kink", [sp.S.Zero, X], [0], claimed_smoothness=1)

        smooth_pade = Activation.from_expression(
            "safe-pade", (1 + X + X**2) / (1 + sp.Abs(X) + X**2), junctions=[0])
    """))
    env = {"PYTHONPATH": str(tmp_path)}
    r = gemsym("verify-smoothness", "--family", "myacts:overclaimed", "--json", env_extra=env)
    assert r.returncode == 1
    (rec,) = json.loads(r.stdout)
    assert rec["holds"] is False and rec["smoothness"] == 0 and rec["claimed"] == 1
    r = gemsym("verify-smoothness", "--family", "myacts:smooth_pade", "--json", env_extra=env)
    assert r.returncode == 0
    assert json.loads(r.stdout)[0]["smoothness"] == 0


def test_show_json_and_latex():
    r = gemsym("show", "--family", "se-gem", "--N", "2", "--eps", "1/10000", "--order", "3", "--json")
    assert r.returncode == 0, r.stderr
    (rec,) = json.loads(r.stdout)
    assert rec["params"] == {"N": "2", "eps": "1/10000"}
    assert rec["taylor"][0]["right"]["text"].endswith("10000*x**5")
    assert {a["at"] for a in rec["asymptotics"]} == {"inf", "-inf"}
    r = gemsym("show", "--family", "gem", "--N", "symbolic", "--latex")
    assert r.returncode == 0 and "x^{2 N + 1}" in r.stdout
    r = gemsym("show", "--order", "0")
    assert r.returncode == 2 and "--order" in r.stderr


def test_cli_does_not_import_torch_or_matplotlib():
    code = ("import sys; from gemsym.cli import main; main(['verify-smoothness','--N','2']); "
            "print('torch' in sys.modules, 'matplotlib' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.stdout.strip().splitlines()[-1] == "False False"
