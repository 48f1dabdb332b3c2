"""A minimal PDF writer: text lines in Helvetica on A4/Letter pages, no dependency.

Enough for a filing copy of a report: a title, wrapped lines, page numbers. Text is transliterated to
ASCII (anyascii) so the standard Type 1 font can show it; the output is PDF 1.4 with a correct
cross-reference table.
"""

from __future__ import annotations

import textwrap

from anyascii import anyascii

PAGE_WIDTH, PAGE_HEIGHT = 612, 792  # US Letter, points
MARGIN = 54
FONT_SIZE = 9
LEADING = 12
TITLE_SIZE = 14
WRAP = 105  # characters per line at 9 pt Helvetica within the margins


def _escape(text: str) -> str:
    ascii_text = anyascii(text)
    return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _wrap(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        wrapped = textwrap.wrap(
            anyascii(line), WRAP, subsequent_indent=" " * (indent + 2), drop_whitespace=False
        ) or [""]
        out.extend(wrapped)
    return out


def render_pdf(title: str, lines: list[str]) -> bytes:
    body = _wrap(lines)
    per_page = (PAGE_HEIGHT - 2 * MARGIN - 2 * LEADING) // LEADING
    pages = [body[i : i + per_page] for i in range(0, len(body), per_page)] or [[]]
    objects: list[bytes] = []

    def add(obj: bytes) -> int:
        objects.append(obj)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    kids: list[int] = []
    for number, page_lines in enumerate(pages, 1):
        y = PAGE_HEIGHT - MARGIN
        ops = [f"BT /F2 {TITLE_SIZE} Tf {MARGIN} {y} Td ({_escape(title)}) Tj ET"]
        y -= 2 * LEADING
        ops.append(f"BT /F1 {FONT_SIZE} Tf {LEADING} TL {MARGIN} {y} Td")
        for line in page_lines:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        ops.append(
            f"BT /F1 8 Tf {PAGE_WIDTH - MARGIN - 60} {MARGIN / 2} Td (page {number} of {len(pages)}) Tj ET"
        )
        stream = "\n".join(ops).encode("latin-1")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page = add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>"
            % (pages_obj, PAGE_WIDTH, PAGE_HEIGHT, content, font, bold)
        )
        kids.append(page)
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        xref,
    )
    return bytes(out)
