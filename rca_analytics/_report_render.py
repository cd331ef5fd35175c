"""The document every report is: :class:`Block` and :class:`Report`, and their rendering.

A report is a title and a list of blocks (headings, paragraphs, tables, figures,
preformatted text). It renders as Markdown (every piece of text shown literally: no
links, tags or code the data could smuggle in) or as one self-contained HTML page
(styles inline, figures embedded as PNG data). :func:`format_duration` writes the
durations of table cells and of the reports' sentences.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Block", "Report", "format_duration"]


@dataclass(frozen=True)
class Block:
    """One piece of a report: a heading, a paragraph, a table, a figure or a note."""

    kind: str  # heading | text | table | figure | pre
    content: Any
    level: int = 2


@dataclass
class Report:
    """A document made of blocks, rendered as Markdown or self-contained HTML.

    Attributes:
        title: The document's title.
        blocks: Its content, in order.
        figures: PNG bytes by name (referenced by ``figure`` blocks).
    """

    title: str
    blocks: list[Block] = field(default_factory=list)
    figures: dict[str, bytes] = field(default_factory=dict)

    def add_figure(self, name: str, png: bytes | None, caption: str) -> None:
        """A figure, or (``png`` None: no matplotlib) a note saying how to get it."""
        if png is None:
            self.blocks.append(Block("text", f"(The {name} plot needs matplotlib: "
                                             "pip install 'rca-analytics[plots]'.)"))  # fmt: skip
        else:
            self.figures[name] = png
            self.blocks.append(Block("figure", (name, caption)))

    def to_markdown(self, *, figure_prefix: str = "") -> str:
        """Markdown; figures are linked as ``<figure_prefix><name>.png`` files."""
        out = [f"# {_md_text(self.title)}", ""]
        for block in self.blocks:
            if block.kind == "heading":
                out += ["#" * block.level + " " + _md_text(block.content), ""]
            elif block.kind == "text":
                out += [_md_text(block.content), ""]
            elif block.kind == "pre":
                out += ["```", str(block.content).replace("```", "`\u200b``"), "```", ""]
            elif block.kind == "table":
                out += [_md_table(block.content), ""]
            elif block.kind == "figure":
                name, caption = block.content
                target = f"{figure_prefix}{name}.png".replace("<", "%3C").replace(">", "%3E")
                out += [f"![{_md_text(caption)}](<{target}>)", ""]
        return "\n".join(out).rstrip() + "\n"

    def to_html(self) -> str:
        """One HTML page: inline styles, figures embedded as PNG data; nothing fetched."""
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for block in self.blocks:
            if block.kind == "heading":
                level = min(block.level, 6)
                body.append(f"<h{level}>{html.escape(block.content)}</h{level}>")
            elif block.kind == "text":
                text = str(block.content).replace("\r\n", "\n").replace("\r", "\n")
                body.append("<p>" + html.escape(text).replace("\n", "<br>\n") + "</p>")
            elif block.kind == "pre":
                body.append(f"<pre>{html.escape(str(block.content))}</pre>")
            elif block.kind == "table":
                body.append(_html_table(block.content))
            elif block.kind == "figure":
                name, caption = block.content
                data = base64.b64encode(self.figures[name]).decode("ascii")
                body.append(
                    f'<figure><img id="{html.escape(name)}" alt="{html.escape(caption)}" '
                    f'src="data:image/png;base64,{data}"><figcaption>'
                    f"{html.escape(caption)}</figcaption></figure>"
                )
        fragment = f'<div class="rca-report"><style>{_CSS}</style>\n' + "\n".join(body)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title></head><body>\n"
            f"{fragment}\n</div>\n</body></html>\n"
        )

    def save(self, path: str | Path) -> Path:
        """Write ``.md`` (figures as PNG files beside it) or ``.html`` (self-contained)."""
        target = Path(path)
        if target.suffix.lower() in (".html", ".htm"):
            target.write_text(self.to_html(), encoding="utf-8")
        elif target.suffix.lower() in (".md", ".markdown"):
            prefix = f"{target.stem}-"
            for name, png in self.figures.items():
                (target.parent / f"{prefix}{name}.png").write_bytes(png)
            target.write_text(self.to_markdown(figure_prefix=prefix), encoding="utf-8")
        else:
            raise ValueError(f"{target}: save as .md or .html")
        return target

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        """The report in one ``div`` whose styles touch nothing else of the notebook."""
        page = self.to_html()
        return page[page.index('<div class="rca-report">') : page.rindex("</div>") + 6]


_CSS = (
    ".rca-report{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
    "padding:0 1rem;color:#1f2328}.rca-report table{border-collapse:collapse;margin:.5rem 0}"
    ".rca-report th,.rca-report td{border:1px solid #d0d7de;padding:.25rem .5rem;"
    "text-align:left;vertical-align:top;font-size:.9rem}.rca-report th{background:#f6f8fa}"
    ".rca-report img{max-width:100%}.rca-report pre{white-space:pre-wrap;background:#f6f8fa;"
    "padding:.5rem}"
)


#: Characters that make Markdown (CommonMark and GitHub's tables) do something.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>&|~#!])")


def _md_escape(text: str) -> str:
    """One line shown literally: markup characters backslash-escaped."""
    out = _MD_SPECIAL.sub(r"\\\1", text)
    out = re.sub(r"^(\d+)([.)])", r"\1\\\2", out)  # "1. " starts a list
    out = re.sub(r"^([-+=])", r"\\\1", out)  # list items, setext underlines
    return re.sub(r"^( +)", lambda m: "&#32;" * len(m.group(1)), out)  # no code block


def _md_text(text: Any) -> str:
    """Text as Markdown shows it literally, line breaks kept: no links, tags or code."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    out = [_md_escape(line) if line.strip() else "" for line in lines]
    # A hard line break (a trailing backslash) between the lines of one paragraph.
    return "\n".join(
        line + ("\\" if i + 1 < len(out) and line and out[i + 1] else "")
        for i, line in enumerate(out)
    )


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}Z"
    if isinstance(value, pd.Timedelta | dt.timedelta):
        return format_duration(pd.Timedelta(value))
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def _md_table(frame: pd.DataFrame) -> str:
    def esc(text: str) -> str:
        return _md_escape(" ".join(text.replace("\r", "\n").split("\n")))

    head = "| " + " | ".join(esc(str(c)) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = [
        "| " + " | ".join(esc(_cell(v)) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, rule, *rows])


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def format_duration(value: pd.Timedelta | None) -> str:
    """A duration as people read it: ``8 min``, ``2 h 05 min``, ``3.5 days`` ("" if none)."""
    if value is None or pd.isna(value):
        return ""
    seconds = value.total_seconds()
    sign = "-" if seconds <= -30 else ""  # what rounds to 0 min has no sign
    seconds = abs(seconds)
    if seconds < 3600:
        return f"{sign}{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        hours, rest = divmod(int(seconds), 3600)
        return f"{sign}{hours} h {rest // 60:02d} min"
    return f"{sign}{seconds / 86400:.1f} days"
