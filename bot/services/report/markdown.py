"""The report as Markdown: headings, label/value lists and tables, user text escaped."""

from __future__ import annotations

from bot.services.exports.markdown import escape
from bot.services.report.document import Block, Document, Table


def render_markdown(document: Document) -> str:
    out = [f"# {escape(document.title)}", "", f"_{escape(document.subtitle)}_", ""]
    for section in document.sections:
        _block(section, 2, out)
    return "\n".join(out).rstrip() + "\n"


def _block(block: Block, level: int, out: list[str]) -> None:
    out += ["#" * level + " " + escape(block.title), ""]
    if block.fields:
        out += [f"- **{escape(label)}:** {escape(value)}" for label, value in block.fields]
        out.append("")
    for table in block.tables:
        out += _table(table)
        out.append("")
    for paragraph in block.paragraphs:
        out += [escape(paragraph), ""]
    for part in block.parts:
        _block(part, min(level + 1, 6), out)


def _table(table: Table) -> list[str]:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(escape(cell) if cell else " " for cell in cells) + " |"

    return [row(table.columns), "|" + "---|" * len(table.columns), *map(row, table.rows)]
