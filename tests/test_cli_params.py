"""Family parameters on the command line: ``--param NAME=VALUE``, the ``--NAME`` options
built from the selected families' definitions, negative and symbolic values, no prefix
matching, and exit status 2 naming the parameter for every misuse.  Run in-process
(``main(argv)``): each case costs milliseconds, not an interpreter start."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from gemsym.cli import main

# show with --order 1 --derivatives 0 prints the branches with the values bound: the
# cheapest command that says what the parameters became.
SHOW = ["show", "--order", "1", "--derivatives", "0", "--json"]


def run(capsys, *argv):
    """(exit status, stdout, stderr) of ``gemsym argv``; argparse's exits included."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def shown_params(capsys, *argv) -> dict:
    code, out, err = run(capsys, *SHOW, *argv)
    assert code == 0, err
    (rec,) = json.loads(out)
    return rec["params"]


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A module ``famk`` in the current folder with a parameter named ``k`` (the CLI
    had no way to set it) and one named ``b``."""
    (tmp_path / "famk.py").write_text(textwrap.dedent("""
        import sympy as sp
        from gemsym import Activation, X
        from gemsym.parameters import positive_integer, positive_real

        def kpow():
            k = positive_integer("k", 2, "power of the positive branch")
            b = positive_real("b", 1, "scale")
            return Activation.from_branches(
                "kpow", [sp.S.Zero, b.symbol * X**(k.symbol + 1)], [0], parameters=(k, b))
    """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield "famk:kpow"
    sys.modules.pop("famk", None)


def test_param_b_on_a_catalogue_family(capsys):
    assert shown_params(capsys, "--family", "squareplus", "--param", "b=1/3") == {"b": "1/3"}
    # the option built from the definition
    assert shown_params(capsys, "--family", "squareplus", "--b", "1/3") == {"b": "1/3"}


def test_param_k_on_a_user_family_found_in_the_current_folder(capsys, user_module):
    assert shown_params(capsys, "--family", user_module, "--param", "k=3", "--b", "2") == \
        {"k": "3", "b": "2"}
    code, out, err = run(capsys, "show", "--family", user_module, "--help")
    assert code == 0
    text = " ".join(out.split())  # argparse wraps the help
    assert "--k VALUE kpow: power of the positive branch, a positive integer" in text


@pytest.mark.parametrize("argv,value", [
    (["--a", "-1e9"], "-1000000000"),
    (["--param", "a=-1e9"], "-1000000000"),
    (["--a=-1/3"], "-1/3"),
    (["--a", "-.5"], "-1/2"),
    (["--param", "a=symbolic"], "a"),
])
def test_negative_and_symbolic_values(capsys, argv, value):
    # max(a x, x): the same parameter a < 1 as Sqish, and cheap to show
    assert shown_params(capsys, "--family", "max-ax-x", *argv)["a"] == value


def test_several_families_share_a_parameter_only_those_that_have_it(capsys):
    code, out, err = run(capsys, *SHOW, "--family", "gem", "--family", "elu", "--alpha", "2")
    assert code == 0, err
    gem, elu = json.loads(out)
    assert gem["params"] == {"N": "1"} and elu["params"] == {"alpha": "2"}


@pytest.mark.parametrize("argv,fragment", [
    # no prefix matching: --b is not --beta, --fam is not --family
    (["--family", "sqish", "--b", "1/3"], "unrecognized arguments: --b"),
    (["--fam", "sqish"], "unrecognized arguments: --fam"),
    (["--family", "sqish", "--bet", "2"], "unrecognized arguments: --bet"),
    # a name no selected family has
    (["--family", "sqish", "--param", "zz=1"], "parameter 'zz': no selected family has it"),
    (["--family", "gem", "--beta", "2"], "parameter 'beta': no selected family has it (gem)"),
    (["--family", "gem", "--param", "b=1/3"], "parameter 'b'"),
    # outside the domain
    (["--family", "sqish", "--a", "2"], "a must be a real number < 1 (got '2')"),
    (["--family", "squareplus", "--b", "-1"], "b must be a real number > 0"),
    (["--family", "gem", "--N", "0"], "N must be a positive integer"),
    (["--family", "gem", "--param", "N=2.5"], "N must be a positive integer"),
    (["--family", "sqish", "--beta", "nan"], "beta must be a finite number"),
    # malformed
    (["--family", "sqish", "--param", "beta"], "--param must be NAME=VALUE"),
    (["--family", "sqish", "--param", "=2"], "--param must be NAME=VALUE"),
    (["--family", "sqish", "--beta", "2", "--param", "beta=3"], "'beta' is given twice"),
    (["--family", "sqish", "--param", "beta=2", "--param", "beta=3"], "'beta' is given twice"),
    # the same option twice is not "the last one wins"
    (["--family", "e-gem", "--eps", "1e-4", "--eps", "1e-3"], "--eps is given twice"),
    (["--family", "squareplus", "--b", "1", "--b", "2"], "--b is given twice"),
    (["--family", "sqish", "--order", "2"], "--order is given twice"),
])
def test_misuse_is_exit_2_naming_it(capsys, argv, fragment):
    code, out, err = run(capsys, *SHOW, *argv)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], err


def test_lp_distance_single_family_rejects_a_parameter_it_lacks(capsys):
    code, _, err = run(capsys, "lp-distance", "--family", "e-gem", "--beta", "2", "--dps", "15")
    assert code == 2 and "parameter 'beta'" in err


def test_verify_and_properties_take_param_too(capsys):
    code, out, err = run(capsys, "verify-smoothness", "--family", "elu", "--param", "alpha=1", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["smoothness"] == 1  # ELU is C^1 exactly when alpha = 1
    code, out, err = run(capsys, "verify-smoothness", "--family", "elu", "--alpha", "2", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["smoothness"] == 0


def test_prove_and_figures_take_family(capsys, tmp_path, user_module):
    # a built-in family with theorems: --family selects them (and --only narrows further)
    out = tmp_path / "proofs"
    code, stdout, err = run(capsys, "prove", "--family", "sqish", "--only", "smoothness-sqish",
                            "--out", str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.glob("*.md")) == ["README.md", "smoothness-sqish.md"]
    # any other family is proved and drawn (tests/test_prove_any_family.py and
    # test_figures_any_family.py); an unknown one is refused before any folder is written
    for command in ("prove", "figures"):
        code, _, err = run(capsys, command, "--family", "no-such-family", "--out", str(tmp_path / "x"))
        assert code == 2 and "no-such-family" in err, err
        code, _, err = run(capsys, command, "--family", user_module, "--only", "x",
                           "--out", str(tmp_path / "x"))
        assert code == 2 and "--family alone" in err, err
    assert not (tmp_path / "x").exists()
    code, _, err = run(capsys, "prove", "--family", "gem", "--only", "lp-e-gem", "--out", str(out))
    assert code == 2 and "select no theorem" in err


def test_figures_of_a_family():
    from gemsym.cli.figures import figures_of
    from gemsym.figures import FIGURES

    assert figures_of("sqish", FIGURES) == ["sqish", "sqish_distance"]
    assert figures_of("gem", FIGURES) == ["gem"]
    assert figures_of("e-gem", FIGURES) == ["e_gem"]
