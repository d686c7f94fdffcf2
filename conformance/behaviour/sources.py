"""Where a case's requirement comes from: its source keys as links (docs/spec.md §1), and its § and Q references
resolved to anchors of docs/spec.md."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from conformance.paths import spec_path

_GH = "https://github.com"
# Pinned commits, as docs/spec.md §1 cites them.
SOURCE_URLS = {
    "LS-SNAP": f"{_GH}/localstack/localstack/blob/8b9a79f05846835cf4dff63ab7eefdde9df83783/"
               "tests/aws/services/s3/test_s3_cors.snapshot.json",
    "LS-TEST": f"{_GH}/localstack/localstack/blob/8b9a79f05846835cf4dff63ab7eefdde9df83783/"
               "tests/aws/services/s3/test_s3_cors.py",
    "LS-S3SNAP": f"{_GH}/localstack/localstack/blob/8b9a79f05846835cf4dff63ab7eefdde9df83783/"
                 "tests/aws/services/s3/test_s3.snapshot.json",
    "LS-IMPL": f"{_GH}/localstack/localstack/blob/8b9a79f05846835cf4dff63ab7eefdde9df83783/"
               "localstack-core/localstack/services/s3/cors.py",
    "MOTO": f"{_GH}/getmoto/moto/blob/0af643a5dbfc98797f08ee64f5be3ef8002d56ff/moto/s3/responses.py",
    "S3T": f"{_GH}/ceph/s3-tests/blob/8f0ae7b404a3a2fcf7038bf1e6bf29544fe9b6a3/s3tests/functional/test_s3.py",
    "SCAL-T": f"{_GH}/scality/cloudserver/tree/ec2e3046a1c8289100223b881d59ae5271ba8a08/"
              "tests/functional/aws-node-sdk/test",
    "VGW-T": f"{_GH}/versity/versitygw/blob/5d9d54802d890a3f46a6adc9ee55e15a5a59ab86/tests/test_rest_cors.sh",
    "AWS-PUT": "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html",
    "AWS-GET": "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html",
    "AWS-RULE": "https://docs.aws.amazon.com/AmazonS3/latest/API/API_CORSRule.html",
    "AWS-OPT": "https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html",
    "AWS-CRH": "https://docs.aws.amazon.com/AmazonS3/latest/API/RESTCommonResponseHeaders.html",
    "AWS-UG": "https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html",
    "AWS-ERR": "https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html",
}
_KEY = re.compile(r"\b(" + "|".join(sorted(map(re.escape, SOURCE_URLS), key=len, reverse=True)) + r")\b")


def source_links(source: str) -> list[tuple[str, str]]:
    """The (key, url) pairs a case's source text cites, in order, without repeats."""
    seen: dict[str, str] = {}
    for key in _KEY.findall(source or ""):
        seen.setdefault(key, SOURCE_URLS[key])
    return list(seen.items())


# --- references into docs/spec.md ------------------------------------------------------------------
# A reference is "§N" or "§N.M", optionally followed by row numbers ("#11", "row 14", "rows 2-5, 18"), steps
# ("step 5", "steps 1-5") or a row name ("Method", "'Rule iteration'"); or an open question "Q1".."Q16".
# docs/spec.md gives each of them an HTML anchor (its head explains the scheme); this maps one to the other.

_ANCHOR = re.compile(r'<a id="([^"]+)"></a>(.*)')
_SECTION = re.compile(r"§(\d+(?:\.\d+)?)")
_NUMBERS = re.compile(r"[ \t]*(#|rows?[ \t]+|steps?[ \t]+)(#?\d+(?:[ \t]*(?:-|–|/|,|and)[ \t]*#?\d+(?![.\d]))*)")
_QUESTION = re.compile(r"(?<![\w-])Q(\d+)\b")
_WORD = re.compile(r"[^\s,;:()/]+")


def _norm(text: str) -> str:
    """A row name as compared: no quotes or backticks, lower case, 'Access-Control-' optional."""
    text = re.sub(r"[`'\"]", "", text).lower()
    return " ".join(re.sub(r"\baccess-control-", "", text).split())


def _label(rest: str) -> str:
    """The name of the row an anchor starts: its bold text, or its table cell up to a parenthesis."""
    if rest.startswith("**"):
        return rest[2:].split("**", 1)[0]
    return rest.split("|", 1)[0].split(" (", 1)[0].strip()


@dataclass(frozen=True)
class SpecIndex:
    """The anchors of docs/spec.md and, per section, the names of its named rows."""

    anchors: frozenset[str]
    names: dict[str, tuple[tuple[str, str], ...]]  # section "5" -> ((normalised name, anchor), ...)

    @classmethod
    def parse(cls, text: str) -> "SpecIndex":
        """Read the anchors of the spec's Markdown text."""
        anchors: set[str] = set()
        names: dict[str, list[tuple[str, str]]] = {}
        for line in text.splitlines():
            for match in _ANCHOR.finditer(line):
                anchor = match.group(1)
                anchors.add(anchor)
                named = re.fullmatch(r"s(\d+(?:\.\d+)?)-(?!step-)(?!\d+$)[\w.-]+", anchor)
                if named:
                    label = _norm(_label(match.group(2)))
                    names.setdefault(named.group(1), []).append((label, anchor))
        return cls(frozenset(anchors), {k: tuple(v) for k, v in names.items()})


@dataclass(frozen=True)
class SpecRef:
    """One reference found in a text: what it says, where it is, the anchors it means, or what is wrong."""

    text: str
    start: int
    end: int
    anchors: tuple[str, ...]
    problem: str | None = None


@functools.lru_cache(maxsize=1)
def spec_index() -> SpecIndex:
    """The index of the spec shipped with the suite (docs/spec.md)."""
    return SpecIndex.parse(spec_path().read_text(encoding="utf-8"))


def _numbers(text: str) -> list[int]:
    """Row or step numbers of '2-5, 18, 24' or '11/12'."""
    found: list[int] = []
    for part in re.split(r"[ \t]*(?:,|/|and)[ \t]*", text.replace("#", "")):
        low, _, high = part.partition("-") if "-" in part else part.partition("–")
        found += list(range(int(low), int(high or low) + 1)) if low.strip() else []
    return found


def _raw_length(after: str, name: str) -> int:
    """How many characters of the text after '§N ' spell a normalised name (quotes included)."""
    for k in range(1, min(len(after), 160) + 1):
        if _norm(after[:k]) == name:
            return k + (1 if after[k:k + 1] in "'\"`" else 0)
    return 0


def _named_row(index: SpecIndex, section: str, after: str) -> tuple[str | None, str | None, int]:
    """(anchor, problem, length) for the words after '§N ': the longest row name they start with, or the row
    whose name starts with their first (capitalised) word; (None, None, 0) when they are prose."""
    text = _norm(after[:160])
    rows = index.names.get(section, ())
    best = None
    for name, anchor in rows:
        if name and text.startswith(name) and not re.match(r"[\w-]", text[len(name):len(name) + 1]):
            if best is None or len(name) > len(best[0]):
                best = (name, anchor)
    if best:
        return best[1], None, _raw_length(after, best[0])
    if not re.match(r"[A-Z*`'\"]", after):
        return None, None, 0  # prose after the section number
    word = _WORD.match(text)
    same = [anchor for name, anchor in rows if word and (_WORD.match(name) or [None])[0] == word.group(0)]
    if len(same) == 1:
        return same[0], None, _raw_length(after, word.group(0))
    if same:
        return None, f"'{after[:40].strip()}' fits several rows of §{section} but none fully: {', '.join(same)}", 0
    return None, None, 0


def spec_refs(text: str, index: SpecIndex | None = None) -> list[SpecRef]:
    """Every § and Q reference in a text, resolved against the spec's anchors (problem set if it does not exist)."""
    index = index or spec_index()
    refs: list[SpecRef] = []
    for match in _SECTION.finditer(text or ""):
        section, end = match.group(1), match.end()
        primary = f"s{section}"
        if primary not in index.anchors:
            refs.append(SpecRef(match.group(0), match.start(), end, (), f"no section §{section} in docs/spec.md"))
            continue
        anchors, problem = [primary], None
        numbers = _NUMBERS.match(text, end)
        if numbers:
            end = numbers.end()
            kind = "step-" if numbers.group(1).startswith("step") else ""
            wanted = [f"s{section}-{kind}{n}" for n in _numbers(numbers.group(2))]
            missing = [a for a in wanted if a not in index.anchors]
            anchors = wanted + [primary]
            if missing:
                problem = f"§{section} has no {'step' if kind else 'row'} " + ", ".join(
                    a.rsplit("-", 1)[1] for a in missing)
        elif text[end:end + 1] == " ":
            anchor, problem, length = _named_row(index, section, text[end + 1:])
            if anchor:
                anchors, end = [anchor, primary], end + 1 + length
        refs.append(SpecRef(text[match.start():end], match.start(), end, tuple(anchors), problem))
    for match in _QUESTION.finditer(text or ""):
        anchor = f"q{match.group(1)}"
        refs.append(SpecRef(match.group(0), match.start(), match.end(), (anchor,) if anchor in index.anchors else (),
                            None if anchor in index.anchors else f"no open question {match.group(0)} in docs/spec.md"))
    return sorted(refs, key=lambda r: r.start)


def spec_uri(anchor: str | None = None) -> str:
    """The file:// URI of the shipped spec, at an anchor."""
    uri = spec_path().resolve().as_uri()
    return f"{uri}#{anchor}" if anchor else uri
