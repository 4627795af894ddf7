"""The sheet as a person sees it: a crm list with messy rows, installed and cleaned in one
language, printed by LibreOffice (headless) to PDF, and its pages as PNG images.

Used by tests/test_rendered.py (pixels: colours that must stay visible, text that must not run
into the next row) and by `make docs-images`, which writes the README's pictures
(docs/sheet-en.png, docs/sheet-zh-CN.png) with `python -m tests.rendering docs`. Needs
LibreOffice (Debian: libreoffice-calc-nogui) and poppler-utils.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

SOFFICE = shutil.which("soffice")
TODAY = dt.date(2026, 11, 23)


def messy_list(path: Path, lang: str) -> Path:
    """The template's sample rows, and two Active customers who are one person (a duplicate
    row whose Status must still show green), cleaned by two cycles (IDs, then pairs)."""
    from sheet_templates import builtin, sample_rows
    from sync.plan import RuleSettings
    from sync.xlsx.install import install_new
    from sync.xlsx.target import apply_workbook
    recent = (TODAY - dt.timedelta(days=5)).isoformat()
    twin = {"name": "欧阳娜娜" if lang != "en" else "Lena Fischer", "company": "Acme",
            "phone": "+86 139 1234 5678", "email": "lena@example.com",
            "member_since": "2024-03-01", "last_contact": recent}
    rows = [*sample_rows("crm", lang), twin, {**twin, "email": "lena.f@example.com"},
            {"name": "王芳" if lang != "en" else "Fang Wang", "phone": "12345",
             "email": "wang@@example", "birthday": "03/05/2024", "member_since": "2025-01-01"}]
    install_new(builtin("crm"), path, lang, rows)
    settings = RuleSettings(today=TODAY)
    apply_workbook(path, settings)
    apply_workbook(path, settings)
    return path


# Each tab printed whole on one page: the table is seen as on screen, its rows as tall as
# sheetkeeper made them (the printed layout, landscape pages, is test_looks.py's).
WHOLE_TABS = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'


def to_pdf(source: Path, out: Path) -> Path:
    profile = out / "lo-profile"
    subprocess.run([SOFFICE, "--headless", "--norestore",
                    f"-env:UserInstallation=file://{profile}", "--convert-to", WHOLE_TABS,
                    "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=240)
    return out / f"{source.stem}.pdf"


def first_page(pdf: Path, out: Path, dpi: int = 110) -> Path:
    """The list's tab (the first page) as a PNG image."""
    stem = out / f"{pdf.stem}-table"
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1",
                    "-singlefile", str(pdf), str(stem)], check=True, timeout=120)
    return stem.with_suffix(".png")


def words(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    """Every word LibreOffice printed: (page, xMin, yMin, xMax, yMax, text), in points."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True,
                          capture_output=True, text=True, timeout=120).stdout
    out, page = [], 0
    for line in html.splitlines():
        if "<page " in line:
            page += 1
        m = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                      r"(.*)</word>", line)
        if m:
            out.append((page, *map(float, m.groups()[:4]), m.group(5)))
    return out


def cropped(image_path: Path, to: Path) -> Path:
    """The image cut to what is printed on it, as an optimised PNG."""
    from PIL import Image, ImageChops
    image = Image.open(image_path).convert("RGB")
    box = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    (image.crop(box) if box else image).save(to, optimize=True)
    return to


def docs(folder: Path) -> list[Path]:
    """docs/sheet-en.png and docs/sheet-zh-CN.png, for the README."""
    import tempfile
    folder.mkdir(exist_ok=True)
    made = []
    for lang in ("en", "zh-CN"):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            pdf = to_pdf(messy_list(work / f"sheet-{lang}.xlsx", lang), work)
            made.append(cropped(first_page(pdf, work, dpi=75), folder / f"sheet-{lang}.png"))
    return made


if __name__ == "__main__":
    if sys.argv[1:] != ["docs"] or SOFFICE is None:
        sys.exit("usage: python -m tests.rendering docs   (needs LibreOffice: soffice)")
    for path in docs(Path(__file__).resolve().parent.parent / "docs"):
        print(path)
