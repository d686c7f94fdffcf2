"""python -m conformance vectors: the AWS recordings (fixtures/aws-vectors) behind a case, or --list them;
--spec-appendix regenerates docs/spec.md's appendix of what backs each fact.

Exit status: 0 printed; 2 bad input (no case ID, an unknown case ID); 4 a vector file that does not load.
"""

from __future__ import annotations

import re

from conformance.behaviour.vector_backing import backing, backing_vectors, backs, citations, distinct_facts
from conformance.behaviour.vectors import SECTIONS, Vector, vectors
from conformance.errors import SuiteUsageError
from conformance.paths import spec_path

# --- python -m conformance vectors ----------------------------------------------------------------


def _rule_text(rule: dict) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" if not isinstance(v, list) else f"{k}: [{', '.join(map(repr, v))}]"
                           for k, v in rule.items()) + "}"


def exchange(vector: Vector) -> str:
    """The recorded exchange in readable form: configuration, request lines (>) and answer lines (<)."""
    r, a = vector.request, vector.answer
    lines = [f"{vector.id}  [{vector.kind}]  facts: {', '.join(vector.facts)}",
             f"  source: {vector.source.describe()}"]
    if vector.open_question:
        lines.append(f"  open question {vector.open_question} (fields {', '.join(vector.open_fields)})")
    if vector.note:
        lines.append(f"  note: {vector.note}")
    if vector.rules is None:
        lines.append("  configuration: none")
    else:
        lines.append(f"  configuration ({vector.config}):" if vector.kind != "put"
                     else f"  configuration sent ({vector.config}):")
        lines.extend([f"    {_rule_text(rule)}" for rule in vector.rules] or ["    (no CORSRule)"])
    path = {"object": "/<bucket>/<key>", "bucket": "/<bucket>", "service": "/"}[r.resource]
    if vector.kind in ("put", "get", "delete"):
        path += "?cors"
    lines.append(f"  > {r.method} {path}  ({'signed' if r.signed else 'anonymous'}"
                 f"{'' if r.bucket_exists else ', bucket does not exist'})")
    for name, value in (("Origin", r.origin), ("Access-Control-Request-Method", r.request_method),
                        ("Access-Control-Request-Headers", r.request_headers), *r.other_headers):
        if value is not None:
            lines.append(f"  > {name}: {value}")
    if a.status is not None:
        verdict = "" if a.accepted is None else f" ({'accepted' if a.accepted else 'refused'})"
        lines.append(f"  < {a.status}{verdict}")
    elif a.accepted is not None:
        lines.append(f"  < {'accepted (2xx)' if a.accepted else 'refused'}")
    for name, value in a.error or ():
        lines.append(f"  < error {name}: {value}")
    for name, value in a.headers:
        lines.append(f"  < {name}: {value}")
    if a.absent:
        lines.append(f"  < (absent: {', '.join(a.absent)})")
    if a.headers_recorded != "all" and vector.kind in ("preflight", "actual"):
        lines.append("  < (Vary not recorded)" if a.headers_recorded == "access-control"
                     else "  < (response headers not recorded)")
    if a.body == "":
        lines.append("  < (empty body)")
    for rule in a.rules or ():
        lines.append(f"  < CORSRule {_rule_text(rule)}")
    return "\n".join(lines)


def add_arguments(parser) -> None:
    """python -m conformance vectors CASE-ID... | --list: the AWS recordings behind a case."""
    parser.add_argument("case_ids", nargs="*", metavar="CASE-ID", help="a case ID such as PRE-ORIG-011")
    parser.add_argument("--list", action="store_true", help="list every vector (ID, kind, recording, facts)")
    parser.add_argument("--spec-appendix", action="store_true",
                        help="rewrite the generated appendix of docs/spec.md (what backs each fact)")


def run(args) -> int:
    """Print the vectors behind each case (those its source names and those backing a spec row it cites)."""
    import sys

    from conformance.behaviour.tables import registry

    if args.spec_appendix:
        from conformance.paths import spec_path

        path = spec_path()
        path.write_text(current_spec(path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote the appendix of {path}")
        return 0
    if not args.list and not args.case_ids:
        print("python -m conformance vectors: give a CASE-ID or --list (see --help)", file=sys.stderr)
        return 2
    try:
        pool = vectors()
        cases = registry().cases
    except SuiteUsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    if args.list:
        for v in pool:
            key = v.source.snapshot_key or "(assertion)"
            print(f"{v.id:14} {v.kind:9} {v.source.test.rsplit('::', 1)[-1]} {key}  [{', '.join(v.facts)}]")
        print(f"{len(pool)} vectors backing {len(distinct_facts(pool))} distinct spec facts")
    unknown = [c for c in args.case_ids if c not in cases]
    if unknown:
        print(f"unknown case ID {unknown[0]!r} (case IDs are in fixtures/cases/*.toml)", file=sys.stderr)
        return 2
    for case_id in args.case_ids:
        case = cases[case_id]
        found = backing_vectors(case.source, pool)
        cited = ", ".join(sorted({f"§{s}" + (f" {d}" if d else "") if not s.startswith("Q") else s
                                  for s, d in citations(case.source)})) or "none"
        print(f"{case.id} ({case.level}): {case.title}\n  source: {case.source}\n  cites: {cited}\n"
              f"  backing: {backing(case.source)}; {len(found)} AWS recording(s)")
        for v in found:
            print("\n" + exchange(v))
        print()
    return 0

# ---- the spec's appendix: what backs each fact ---------------------------------------------------------------

APPENDIX_START = "<!-- generated: python -m conformance vectors --spec-appendix (tests/test_aws_vectors.py keeps it current) -->"
APPENDIX_END = "<!-- end of generated appendix -->"
_ROW = re.compile(r'^\| <a id="(?P<anchor>s(?P<section>\d+(?:\.\d+)?)-(?P<rest>[^"]+))"></a>(?P<title>[^|]*)\|(?P<cells>.*)\|\s*$')


def spec_facts(spec_text: str) -> list[tuple[str, str, str]]:
    """Every anchored fact row of the spec's tables: (anchor, citation such as "§4.1 step 5", grade-and-source cell)."""
    out = []
    for line in spec_text.splitlines():
        m = _ROW.match(line)
        if not m or m["section"] not in SECTIONS or m["section"] in ("0", "1", "9", "10", "12"):
            continue  # grades, source keys, emulator notes and open questions are not facts of AWS
        rest = m["rest"]
        if rest.isdigit():
            cite = f"§{m['section']} #{rest}"
        elif rest.startswith("step-"):
            cite = f"§{m['section']} step {rest[5:]}"
        else:
            cite = f"§{m['section']} {m['title'].replace('`', '').strip()}"
        out.append((m["anchor"], cite, m["cells"].rsplit("|", 1)[-1].strip()))
    return out


def fact_backing(citation: str, grades: str, pool: tuple[Vector, ...] | None = None) -> tuple[str, list[str]]:
    """('recorded' | 'documented' | 'secondary', the IDs of the AWS recordings behind it) for one spec fact."""
    found = [v.id for v in (vectors() if pool is None else pool)
             if any(backs(f, citations(citation)) for f in v.facts)]
    if found:
        return "recorded", found
    return backing(grades), []


def spec_appendix(spec_text: str, pool: tuple[Vector, ...] | None = None) -> str:
    """The generated appendix of docs/spec.md: for each fact, what backs it, with the AWS recordings' IDs."""
    pool = vectors() if pool is None else pool
    rows = ["| fact | backed by | AWS recordings (fixtures/aws-vectors) |", "| --- | --- | --- |"]
    counts = {"recorded": 0, "documented": 0, "secondary": 0}
    for anchor, cite, grades in spec_facts(spec_text):
        kind, ids = fact_backing(cite, grades, pool)
        counts[kind] += 1
        label = {"recorded": "a recorded AWS exchange" if ids else "an AWS answer recorded elsewhere (grade A)",
                 "documented": "AWS documentation only", "secondary": "secondary sources only"}[kind]
        rows.append(f"| [{cite}](#{anchor}) | {label} | {', '.join(ids) or '—'} |")
    head = (f"{len(rows) - 2} facts: {counts['recorded']} backed by an AWS recording "
            f"({sum(1 for r in rows[2:] if not r.endswith('| — |'))} of them by the vectors of fixtures/aws-vectors), "
            f"{counts['documented']} by AWS documentation only, {counts['secondary']} by secondary sources only.")
    return "\n".join([APPENDIX_START, "", head, "", *rows, "", APPENDIX_END])


def current_spec(spec_text: str, pool: tuple[Vector, ...] | None = None) -> str:
    """The spec with its generated appendix brought up to date."""
    start, end = spec_text.index(APPENDIX_START), spec_text.index(APPENDIX_END) + len(APPENDIX_END)
    return spec_text[:start] + spec_appendix(spec_text, pool) + spec_text[end:]
