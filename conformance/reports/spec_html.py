"""docs/spec.md as HTML for the self-contained report: the few Markdown forms the spec uses (headings, tables,
lists, paragraphs, code spans, bold, links, <a id> anchors), with every § and Q reference linked to its anchor."""

from __future__ import annotations

import html
import re

from conformance.behaviour.sources import SpecIndex, spec_refs

_INLINE = re.compile(r'<a id="(?P<anchor>[\w.-]+)"></a>|`(?P<code>[^`]+)`|\*\*'
                     r'|\[(?P<label>[^\]]+)\]\((?P<href>[^)\s]+)\)')
_HEADING = re.compile(r"^(#{1,4})\s+(.*)$")


def link_refs(text: str, index: SpecIndex | None = None) -> str:
    """Escaped text with each resolvable § and Q reference turned into a link to its in-page anchor."""
    out, at = [], 0
    for ref in spec_refs(text, index):
        if ref.problem or not ref.anchors or ref.start < at:
            continue
        out += [html.escape(text[at:ref.start]),
                f"<a class='ref' href='#{html.escape(ref.anchors[0])}'>{html.escape(ref.text)}</a>"]
        at = ref.end
    return "".join(out) + html.escape(text[at:])


def _inline(text: str, index: SpecIndex | None) -> str:
    out, at, bold = [], 0, False
    for m in _INLINE.finditer(text):
        out.append(link_refs(text[at:m.start()], index))
        at = m.end()
        if m.group("anchor"):
            out.append(f"<a id='{html.escape(m.group('anchor'))}'></a>")
        elif m.group("code") is not None:
            out.append(f"<code>{html.escape(m.group('code'))}</code>")
        elif m.group("href"):
            href, label = m.group("href"), _inline(m.group("label"), index)
            if href.startswith(("https://", "http://", "#")):
                out.append(f"<a href='{html.escape(href)}'>{label}</a>")
            else:  # another file of the suite: named, not linked (the page stands alone)
                out.append(label if m.group("label") == href else
                           f"{label} <span class='muted'>({html.escape(href)})</span>")
        else:
            out.append("</b>" if bold else "<b>")
            bold = not bold
    out.append(link_refs(text[at:], index))
    return "".join(out) + ("</b>" if bold else "")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def render_spec(markdown: str, index: SpecIndex | None = None) -> str:
    """The spec's Markdown as an HTML fragment (headings one level down, so the report keeps its own h1)."""
    lines = markdown.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = _HEADING.match(line)
        if line.startswith("```"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines))
            out.append(f"<pre>{html.escape(chr(10).join(lines[i + 1:end]))}</pre>")
            i = end + 1
        elif heading:
            level = min(len(heading.group(1)) + 1, 6)
            out.append(f"<h{level}>{_inline(heading.group(2), index)}</h{level}>")
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            body = [r for r in rows[1:] if not all(re.fullmatch(r":?-+:?", c) for c in r)]
            out.append("<table><tr>" + "".join(f"<th>{_inline(c, index)}</th>" for c in rows[0]) + "</tr>" +
                       "".join("<tr>" + "".join(f"<td>{_inline(c, index)}</td>" for c in r) + "</tr>" for r in body)
                       + "</table>")
        elif re.match(r"^\s*([*-]|\d+\.)\s", line):
            items: list[str] = []
            while i < len(lines) and lines[i].strip():
                if re.match(r"^\s*([*-]|\d+\.)\s", lines[i]) and not lines[i].startswith("   "):
                    items.append(re.sub(r"^\s*([*-]|\d+\.)\s", "", lines[i]))
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            out.append("<ul>" + "".join(f"<li>{_inline(item, index)}</li>" for item in items) + "</ul>")
        elif line.strip() == "---":
            out.append("<hr>")
            i += 1
        elif not line.strip():
            i += 1
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not re.match(r"^(\||#|```|\s*([*-]|\d+\.)\s|---$)",
                                                                      lines[i]):
                para.append(lines[i].strip())
                i += 1
            out.append(f"<p>{_inline(' '.join(para), index)}</p>")
    return "\n".join(out)
