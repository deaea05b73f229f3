"""The report as one self-contained, print-ready HTML file: inline CSS, no scripts, nothing
fetched from the network, margins safe on A4 and US Letter, each section on a new page."""

from __future__ import annotations

from html import escape

from bot.services.report.document import Block, Document, Table

# A4 is 210 × 297 mm and Letter 216 × 279 mm: 18 mm margins and a 174 mm measure fit both,
# whichever the printer picks (`size` is left to the printer's paper).
STYLE = """
@page { margin: 18mm 16mm; }
* { box-sizing: border-box; }
body { font: 10pt/1.35 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #111;
       margin: 0 auto; max-width: 174mm; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 13pt; border-bottom: 0.4mm solid #7a1f1f; padding-bottom: 1mm; margin: 6mm 0 3mm; }
h3 { font-size: 11pt; margin: 5mm 0 2mm; }
h4 { font-size: 10pt; margin: 4mm 0 2mm; }
.subtitle { color: #444; margin: 0 0 6mm; }
section.break { break-before: page; page-break-before: always; }
dl { display: grid; grid-template-columns: 38mm 1fr; gap: 1mm 3mm; margin: 0 0 3mm; }
dt { font-weight: bold; }
dd { margin: 0; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; margin: 0 0 3mm; table-layout: auto; }
th, td { border: 0.2mm solid #999; padding: 1mm 1.5mm; text-align: left; vertical-align: top;
         overflow-wrap: break-word; font-size: 8.5pt; }
th { background: #eee; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
td.blank { height: 12mm; }
p { margin: 0 0 2mm; }
"""


def render_html(document: Document) -> str:
    body = [
        f"<h1>{escape(document.title)}</h1>",
        f'<p class="subtitle">{escape(document.subtitle)}</p>',
    ]
    for section in document.sections:
        body.append(_block(section, 2))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>{escape(document.title)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _block(block: Block, level: int, *, may_break: bool = True) -> str:
    parts = [f"<h{level}>{escape(block.title)}</h{level}>"]
    if block.fields:
        items = "".join(
            f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in block.fields
        )
        parts.append(f"<dl>{items}</dl>")
    parts += [_table(table) for table in block.tables]
    parts += [f"<p>{escape(paragraph)}</p>" for paragraph in block.paragraphs]
    # A part that comes straight after its heading stays on the heading's page.
    alone = len(parts) == 1
    parts += [
        _block(part, min(level + 1, 6), may_break=not (alone and index == 0))
        for index, part in enumerate(block.parts)
    ]
    css = ' class="break"' if block.page_break and may_break else ""
    return f"<section{css}>{''.join(parts)}</section>"


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in table.columns)
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{escape(cell)}</td>" if cell else '<td class="blank"></td>' for cell in row)
        + "</tr>"
        for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
