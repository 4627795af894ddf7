"""Runs at the start of every Python process that has this folder on PYTHONPATH: with
SHEETKEEPER_AS_WINDOWS=1, the process is put in Windows mode (windows_like.py) before any of
sheetkeeper is imported."""
import os

if os.environ.get("SHEETKEEPER_AS_WINDOWS"):
    import windows_like
    windows_like.install()
