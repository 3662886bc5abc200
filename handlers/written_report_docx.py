"""The Word pieces the written report is made of (python-docx): an A4 page with Decree
30/2020/NĐ-CP's margins and fonts, paragraphs, headings and bordered tables of fixed widths."""

from __future__ import annotations

from io import BytesIO
from typing import Any

FONT = "Times New Roman"
BODY_PT = 13
TABLE_PT = 12
SMALL_PT = 11
NOTE_PT = 10
# A4 with Decree 30's margins: 30 mm left, 15 mm right, 20 mm top and bottom.
PAGE_MM = (210, 297)
MARGINS_MM = (20, 20, 30, 15)  # top, bottom, left, right
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM[2] - MARGINS_MM[3]  # 165 mm: every table fits it
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]


class Writer:
    """A python-docx document with the few styles the report uses."""

    def __init__(self) -> None:
        from docx import Document
        from docx.shared import Mm, Pt

        self.doc = Document()
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        top, bottom, left, right = MARGINS_MM
        section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
        section.left_margin, section.right_margin = Mm(left), Mm(right)
        normal = self.doc.styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(BODY_PT)
        east_asian_font(normal.element)
        fmt = normal.paragraph_format
        fmt.space_before, fmt.space_after = Pt(0), Pt(3)

    def paragraph(
        self,
        text: str = "",
        *,
        bold: bool = False,
        italic: bool = False,
        size: float | None = None,
        align: str = "justify",
        indent: bool = False,
        highlight: bool = False,
        before: float | None = None,
    ) -> Any:
        from docx.enum.text import WD_COLOR_INDEX
        from docx.shared import Mm, Pt

        p = self.doc.add_paragraph()
        p.alignment = alignment(align)
        if indent:
            p.paragraph_format.first_line_indent = Mm(10)
        if before is not None:
            p.paragraph_format.space_before = Pt(before)
        if text:
            run = p.add_run(text)
            run.bold, run.italic = bold, italic
            if size:
                run.font.size = Pt(size)
            if highlight:
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        return p

    def heading(self, number: int, text: str) -> None:
        self.paragraph(f"{ROMAN[number - 1]}. {text.upper()}", bold=True, align="left", before=6)

    def subheading(self, text: str) -> None:
        self.paragraph(text, bold=True, italic=True, align="left", before=3)

    def table(self, headers: list[str], rows: list[list[str]], widths_mm: list[float]) -> Any:
        """A bordered table of fixed column widths adding up to the text width at most."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.shared import Mm

        assert sum(widths_mm) <= TEXT_WIDTH_MM + 0.01, widths_mm
        table = self.doc.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        fixed_layout(table)
        for j, width in enumerate(widths_mm):
            table.columns[j].width = Mm(width)
        # Row by row (python-docx's table.cell(i, j) walks the whole table each time).
        for j, (cell, text) in enumerate(zip(table.rows[0].cells, headers, strict=True)):
            cell.width = Mm(widths_mm[j])
            write_cell(cell, text, bold=True, align="center", size=TABLE_PT)
        for row in rows:
            for j, (cell, text) in enumerate(zip(table.add_row().cells, row, strict=True)):
                cell.width = Mm(widths_mm[j])
                align = "left" if j == 1 else "center"
                write_cell(cell, text, align=align, size=TABLE_PT, notes=j > 1)
        self.doc.add_paragraph()
        return table

    def save(self) -> bytes:
        buffer = BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


def alignment(name: str) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    return {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[name]


def east_asian_font(element: Any) -> None:
    """Word takes a run's font per script: Times New Roman for all of them."""
    from docx.oxml.ns import qn

    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def fixed_layout(table: Any) -> None:
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    layout = tbl_pr.makeelement(qn("w:tblLayout"), {qn("w:type"): "fixed"})
    tbl_pr.append(layout)


def set_widths(table: Any, widths_mm: list[float]) -> None:
    from docx.shared import Mm

    for j, width in enumerate(widths_mm):
        table.columns[j].width = Mm(width)
        for cell in table.columns[j].cells:
            cell.width = Mm(width)


def write_cell(
    cell: Any,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    align: str = "left",
    size: float = TABLE_PT,
    notes: bool = False,
) -> None:
    """A cell's text; each line of it a paragraph of its own (with `notes`, the lines after
    the first in smaller italics)."""
    from docx.shared import Pt

    lines = text.split("\n")
    fresh = len(cell.paragraphs) == 1 and not cell.paragraphs[0].text  # (a new cell's own)
    for i, line in enumerate(lines):
        p = cell.paragraphs[0] if i == 0 and fresh else cell.add_paragraph()
        p.alignment = alignment(align)
        p.paragraph_format.space_after = Pt(0)
        run = p.add_run(line)
        run.bold, run.italic = bold, italic
        run.font.size = Pt(size)
        if notes and i > 0:  # what a figure rests on, under it: smaller
            run.italic, run.font.size = True, Pt(NOTE_PT)
