"""The systemd unit shipped in service/systemd: well-formed, and its ExecStart is a command
line sheetkeeper accepts (systemd itself cannot run here)."""
import configparser
import shlex
import shutil
import subprocess

import pytest

from service.cli import build_parser

from .conftest import ROOT

UNIT = ROOT / "service" / "systemd" / "sheetkeeper.service"


def test_the_unit_runs_the_service_and_stops_it_gently():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(UNIT)
    assert {"Unit", "Service", "Install"} <= set(unit.sections())
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0].endswith("/.venv/bin/sheetkeeper")
    args = build_parser().parse_args(argv[1:])
    assert args.command == "run" and str(args.config).endswith("sheetkeeper.toml")
    assert service["KillSignal"] == "SIGTERM" and int(service["TimeoutStopSec"]) >= 60
    assert service["Restart"] == "on-failure"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not here")
def test_systemd_analyze_finds_no_syntax_errors():
    out = subprocess.run(["systemd-analyze", "verify", "--man=no", str(UNIT)],
                         capture_output=True, text=True)
    assert "Unknown" not in out.stderr and "Invalid" not in out.stderr, out.stderr
