"""The spec ships with the suite: every § and Q reference in the repository resolves to an anchor of docs/spec.md,
and no file links outside the repository or to a file (or anchor) that is not there."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conformance.paths import PACKAGE_DIR, spec_path
from conformance.behaviour.sources import SpecIndex, spec_index, spec_refs

ROOT = PACKAGE_DIR.parent
SKIP_DIRS = {".git", ".venv", ".tox", "build", "dist", "node_modules", "__pycache__", ".pytest_cache", ".hypothesis"}
# The tree setuptools makes in the checkout while it builds an sdist (tests/test_package.py, on another xdist
# worker) and removes again: its files are copies, and they may vanish while this walk reads them.
SDIST_TREE = re.compile(r"s3_cors_conformance-\d[\w.+-]*")
TEXT = (".py", ".toml", ".md", ".sh", ".ini", ".js", ".html", ".txt", ".cfg")
S, Q = "\u00a7", "Q"  # built, so that this file's own bad examples are not references

# Documents that live beside the repository (the material docs/ was written from): a file must not point at them.
OUTSIDE = re.compile(r"s3-cors-behaviour\.md|local-servers\.md|/work/shared|shared/reference|\bdesign\.md\b")
MD_LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|^\[[^\]\n]+\]:\s*(\S+)", re.M)
PARENT_PATH = re.compile(r"(?<![\w/$}.])((?:\.\./)+[\w.-][\w./-]*)")
DOC_PATH = re.compile(r"(?<![\w/.-])((?:docs|fixtures|conformance|tests|reports)/[\w./-]*\.md)(#[\w.-]+)?")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def repository_files(root: Path = ROOT) -> list[Path]:
    """The text files of the checkout, without virtualenvs, caches and run output (reports/ but its README)."""
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
                         and not (here == root and (d == "reports" or SDIST_TREE.fullmatch(d))))
        found += [here / f for f in sorted(files) if f.endswith(TEXT)]
    readme = root / "reports" / "README.md"
    return found + ([readme] if readme.is_file() else [])


def _slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def anchors_of(path: Path) -> set[str]:
    """Explicit <a id> anchors and heading anchors of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    found = set(re.findall(r'<a (?:id|name)="([^"]+)"', text))
    found |= {_slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*$", FENCE.sub("", text), re.M)}
    return found


def reference_problems(path: Path, index: SpecIndex, root: Path = ROOT) -> list[str]:
    """Each § or Q reference of a file that does not resolve in docs/spec.md, as 'file:line: problem'."""
    text = path.read_text(encoding="utf-8")
    return [f"{path.relative_to(root)}:{text.count(chr(10), 0, ref.start) + 1}: {ref.text!r}: {ref.problem}"
            for ref in spec_refs(text, index) if ref.problem]


def _target_problem(path: Path, target: str, root: Path, base: Path) -> str | None:
    """Why a relative link target of `path` is wrong (outside the repository, missing file or anchor), or None."""
    file_part, _, anchor = target.partition("#")
    resolved = (base / file_part).resolve() if file_part else path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        return f"{target} points outside the repository"
    if not resolved.exists():
        return f"{target}: no such file in the repository"
    if anchor and resolved.suffix == ".md" and anchor not in anchors_of(resolved):
        return f"{target}: no anchor #{anchor} in {resolved.relative_to(root.resolve())}"
    return None


def link_problems(path: Path, root: Path = ROOT) -> list[str]:
    """Links of a file that leave the repository or point at a missing file or anchor; URLs with a scheme pass."""
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(root)
    problems = [f"{where}: names {m.group(0)!r}, a document outside the repository" for m in OUTSIDE.finditer(text)]
    if path.suffix == ".md":
        for m in MD_LINK.finditer(FENCE.sub("", text)):
            target = m.group(1) or m.group(2)
            if not SCHEME.match(target):
                problem = _target_problem(path, target, root, path.parent)
                problems += [f"{where}: {problem}"] if problem else []
    for m in PARENT_PATH.finditer(text if path.suffix != ".md" else ""):  # Markdown: its links, above
        if not (path.parent / m.group(1)).resolve().is_relative_to(root.resolve()):
            problems.append(f"{where}: {m.group(1)} points outside the repository")
    if path.suffix != ".md":
        for m in DOC_PATH.finditer(text):  # documents named in code and data, resolved from the top
            problem = _target_problem(path, m.group(1) + (m.group(2) or ""), root, root)
            problems += [f"{where}: {problem}"] if problem else []
    return problems


# --- the repository ---------------------------------------------------------------------------------------------

def test_spec_has_the_numbering_every_reference_uses():
    index = spec_index()
    sections = {"s0", "s1", "s2", "s2.1", "s2.2", "s3", "s4", "s4.1", "s4.2", "s4.3"} | {f"s{n}" for n in range(5, 13)}
    assert sections <= index.anchors
    assert {f"s2.1-{n}" for n in range(1, 29)} <= index.anchors
    assert {f"s4.1-step-{n}" for n in range(1, 7)} <= index.anchors
    assert {f"q{n}" for n in range(1, 17)} <= index.anchors
    assert "q17" not in index.anchors and "s13" not in index.anchors


def test_every_reference_in_the_repository_resolves():
    index = spec_index()
    files = repository_files()
    assert spec_path() in files and any(p.name == "moto.toml" for p in files)
    problems = [p for path in files for p in reference_problems(path, index)]
    assert problems == [], "\n".join(problems)


def test_no_link_leaves_the_repository_or_misses_its_target():
    checked = [path for path in repository_files() if path != Path(__file__)]  # this file's bad examples
    problems = [p for path in checked for p in link_problems(path)]
    assert problems == [], "\n".join(problems)


def test_the_spec_is_found_beside_the_package_or_inside_it():
    assert spec_path().is_file() and spec_path().name == "spec.md"
    assert (spec_path().parent / "servers.md").is_file()


# --- the checks themselves catch what they should ---------------------------------------------------------------

@pytest.mark.parametrize("text, anchors", [
    (f"A: LS-SNAP \"opt-put\" ({S}4.1 step 5, {S}5 Method)", ["s4.1-step-5", "s5-method"]),
    (f"({S}2.1 #11)", ["s2.1-11"]),
    (f"({S}2.1 rows 2-5, 18)", ["s2.1-2"]),
    (f"({S}9 'Rule iteration')", ["s9-rule-iteration"]),
    (f"({S}4.2 Allow-Origin, Expose-Headers)", ["s4.2-access-control-allow-origin"]),
    (f"({S}5 origin matching)", ["s5"]),
    (f"({S}6 HEAD; {Q}13)", ["s6-head-bucket-object", "q13"]),
    (f"{S}2.2", ["s2.2"]),
])
def test_good_references_resolve(text, anchors):
    refs = spec_refs(text)
    assert [r.problem for r in refs] == [None] * len(refs)
    assert [r.anchors[0] for r in refs] == anchors
    if "rows" in text:
        assert refs[0].anchors[:5] == ("s2.1-2", "s2.1-3", "s2.1-4", "s2.1-5", "s2.1-18")


@pytest.mark.parametrize("text, problem", [
    (f"see {S}13", "no section"),
    (f"{S}2.1 #29", "has no row 29"),
    (f"{S}2.1 rows 27-30", "has no row 29, 30"),
    (f"{S}4.1 step 7", "has no step 7"),
    (f"open: {Q}17", "no open question"),
    (f"{S}4.4", "no section"),
    (f"({S}5 * empty)", "fits several rows"),
])
def test_a_bad_reference_is_caught(text, problem):
    refs = spec_refs(text)
    assert refs and problem in (refs[0].problem or ""), refs


def test_a_bad_reference_in_a_file_is_reported_with_its_place(tmp_path):
    table = tmp_path / "fixtures" / "cases" / "x.toml"
    table.parent.mkdir(parents=True)
    table.write_text(f'[[case]]\nid = "PRE-X-001"\nsource = "A: LS-SNAP ({S}4.1 step 9)"\n', encoding="utf-8")
    assert reference_problems(table, spec_index(), tmp_path) == [
        f"fixtures/cases/x.toml:3: '{S}4.1 step 9': {S}4.1 has no step 9"]


def test_a_link_out_of_the_repository_is_caught(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "spec.md").write_text('<a id="s1"></a>\n', encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("[spec](../other/x.md), [ok](docs/spec.md#s1), [gone](docs/none.md), "
                      "[anchor](docs/spec.md#s99), [web](https://example.com/a.md)\n", encoding="utf-8")
    code = tmp_path / "m.py"
    code.write_text('"""See docs/spec.md#s1 and docs/spec.md#s2; ../../elsewhere/x.py; local-servers.md."""\n',
                    encoding="utf-8")
    assert link_problems(readme, tmp_path) == [
        "README.md: ../other/x.md points outside the repository",
        "README.md: docs/none.md: no such file in the repository",
        "README.md: docs/spec.md#s99: no anchor #s99 in docs/spec.md",
    ]
    assert link_problems(code, tmp_path) == [
        "m.py: names 'local-servers.md', a document outside the repository",
        "m.py: ../../elsewhere/x.py points outside the repository",
        "m.py: docs/spec.md#s2: no anchor #s2 in docs/spec.md",
    ]
