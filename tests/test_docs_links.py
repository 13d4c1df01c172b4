"""The documentation a clone carries links only to files the clone has: every relative link
in the README, docs/, benchmarks/ and the generated READMEs resolves to a file or folder
inside the repository (web addresses are not followed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

DOCS = sorted({ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("benchmarks/*.md"),
               ROOT / "proofs" / "README.md", ROOT / "figures" / "README.md"})

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
_HTML = re.compile(r"""<(?:img|a)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:, ...


def links(text: str) -> list[str]:
    """Targets of the Markdown and HTML links of ``text``, outside code."""
    text = _CODE.sub("", _FENCE.sub("", text))
    return _LINK.findall(text) + _HTML.findall(text)


def broken_links(doc: Path, root: Path = ROOT) -> list[str]:
    """The relative links of ``doc`` that leave ``root`` or name nothing there."""
    bad = []
    for target in links(doc.read_text(encoding="utf-8")):
        if _EXTERNAL.match(target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0].split("?", 1)[0]
        if path.startswith("/"):
            bad.append(f"{target} (absolute path)")
            continue
        resolved = (doc.parent / path).resolve()
        if not resolved.is_relative_to(root.resolve()):
            bad.append(f"{target} (outside the repository)")
        elif not resolved.exists():
            bad.append(f"{target} (no such file)")
    return bad


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(doc):
    assert doc.is_file(), f"{doc.relative_to(ROOT)} is missing"
    assert broken_links(doc) == [], f"{doc.relative_to(ROOT)}"


def test_the_definitions_are_in_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/definitions.md" in links(readme)
    assert "LICENSE" in links(readme)


def test_the_checker_finds_what_it_must(tmp_path):
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs" / "a.md").write_text("x")
    (tmp_path / "outside.md").write_text("x")
    doc = repo / "README.md"
    doc.write_text(
        "[ok](docs/a.md) [ok](docs/a.md#part) [web](https://example.org/x) [anchor](#top)\n"
        "![img](docs/missing.png) [up](../outside.md) [abs](/etc/passwd)\n"
        '<img src="docs/gone.svg"> `[code](nowhere.md)`\n'
        "```\n[fenced](nowhere.md)\n```\n")
    assert broken_links(doc, repo) == ["docs/missing.png (no such file)",
                                       "../outside.md (outside the repository)",
                                       "/etc/passwd (absolute path)",
                                       "docs/gone.svg (no such file)"]
