"""Checked by looking (#20): a messy crm list, cleaned by sheetkeeper in English and in Chinese
and printed by LibreOffice, keeps a duplicate row's Status colour visible, and no Findings text
runs into the next row. Skipped where LibreOffice is not installed."""
from __future__ import annotations

import shutil
import pytest

from sheet_templates import builtin
from sheet_templates.presentation import DUPLICATE_FILL, STATUS_FILLS
from tests.rendering import SOFFICE, first_page, messy_list, to_pdf, words

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(SOFFICE is None or shutil.which("pdftoppm") is None,
                       reason="LibreOffice (soffice) and poppler-utils are not installed; "
                       "`apt-get install libreoffice-calc-nogui poppler-utils` to run this test"),
]
DPI = 110
CRM = builtin("crm")


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))


def near(a, b) -> bool:
    return all(abs(x - y) <= 6 for x, y in zip(a, b))


@pytest.fixture(scope="module", params=["en", "zh-CN"])
def printed(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"render-{request.param}")
    pdf = to_pdf(messy_list(out / "list.xlsx", request.param), out)
    from PIL import Image
    return (request.param, Image.open(first_page(pdf, out, DPI)).convert("RGB"),
            [w for w in words(pdf) if w[0] == 1])


def cell_colour(image, x0: float, x1: float, y0: float, y1: float):
    """The commonest colour of a cell's box (points), its text aside."""
    scale = DPI / 72
    box = image.crop((int(x0 * scale) + 2, int(y0 * scale), int(x1 * scale) - 2,
                      int(y1 * scale)))
    return max(box.getcolors(maxcolors=1 << 20))[1]


def test_a_duplicate_row_keeps_its_status_colour(printed):
    lang, image, said = printed
    header = CRM.column("status").header(lang)
    status = next(w for w in said if w[5] == header)
    # The two Lena Fischer / 欧阳娜娜 rows: Active, and one person (a certain pair).
    twins = [w for w in said if w[5] == ("Lena" if lang == "en" else "欧阳娜娜")]
    assert len(twins) == 2
    for _, x0, y0, x1, y1, name in twins:
        row = (y0 - 4, y1 + 1)
        assert near(cell_colour(image, x0, x0 + 40, *row), rgb(DUPLICATE_FILL)), (lang, y0)
        assert near(cell_colour(image, status[1], status[1] + 30, *row),
                    rgb(STATUS_FILLS["active"])), (lang, y0)


def test_no_findings_text_runs_into_the_next_row(printed):
    """Each row ends below its ID (text sits at the bottom of its cell): every word of the
    Findings column lies within one row, and no two printed words overlap."""
    lang, image, said = printed
    header = CRM.column_of_type("findings").header(lang)
    findings = next(w for w in said if w[5] == header)
    bottoms = sorted(w[4] for w in said if w[5].startswith("C-0000") and w[1] < 60)
    column = [w for w in said if w[1] >= findings[1] - 1 and w[2] > findings[4]]
    assert len(column) > 20
    for w in column:
        crossed = [b for b in bottoms if w[2] < b - 1 < w[4] - 2]
        assert not crossed, f"{w[5]!r} at {w[2]:.0f}–{w[4]:.0f} crosses a row's end {crossed}"
    boxes = [w for w in said if w[2] > findings[4]]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            dx = min(a[3], b[3]) - max(a[1], b[1])
            dy = min(a[4], b[4]) - max(a[2], b[2])
            # Two lines' boxes touch by their ascent and descent; text printed over text
            # overlaps by most of a line.
            tall = min(a[4] - a[2], b[4] - b[2])
            assert dx <= 1 or dy <= 0.4 * tall, f"{a[5]!r} and {b[5]!r} overlap"
