"""The live-Excel target: a workbook open in Excel on this machine (Windows, macOS), read and
written through xlwings while it stays open (target.py), the calls into Excel and their errors
(session.py, the one module importing xlwings), and the cells of a write as rectangles
(rectangles.py)."""
