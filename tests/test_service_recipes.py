"""The launchd agent (macOS) and the Task Scheduler task (Windows) shipped beside the systemd
unit: well-formed, and each starts a command line sheetkeeper accepts as `run` with a
sheetkeeper.toml, at log-in, restarting after a failure, with time for the cycle in flight to
finish. Neither launchd nor Task Scheduler can run here; `plutil -lint` checks the agent where it
exists (macOS)."""
import plistlib
import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from service.cli import build_parser

from .conftest import ROOT

AGENT = ROOT / "service" / "launchd" / "org.sheetkeeper.run.plist"
TASK = ROOT / "service" / "windows" / "sheetkeeper-task.xml"
NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}


def runs_the_service(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.command == "run" and str(args.config).endswith("sheetkeeper.toml")


def test_the_launchd_agent_runs_the_service_at_log_in_and_stops_it_gently():
    agent = plistlib.loads(AGENT.read_bytes())
    program = agent["ProgramArguments"]
    assert program[0] == "/Users/YOU/.local/bin/sheetkeeper"     # where pipx puts it
    runs_the_service(program[1:])
    assert agent["Label"] == AGENT.stem and agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}        # restarted after a failure
    assert agent["ExitTimeOut"] >= 60                             # SIGTERM, then time to finish
    assert agent["Umask"] == 0o077
    assert all(v.startswith("/Users/YOU/") for k, v in agent.items()
               if k.endswith("Path") or k == "WorkingDirectory")   # the install's sed fills in
    assert f'sed "s|/Users/YOU|$HOME|g" service/launchd/{AGENT.name}' in AGENT.read_text()


@pytest.mark.skipif(shutil.which("plutil") is None, reason="plutil is macOS's; not here")
def test_plutil_finds_the_agent_well_formed():
    out = subprocess.run(["plutil", "-lint", str(AGENT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_windows_task_runs_the_service_at_log_on_and_never_times_it_out():
    task = ET.parse(TASK).getroot()
    exec_ = task.find("t:Actions/t:Exec", NS)
    assert exec_.findtext("t:Command", namespaces=NS) == r"%USERPROFILE%\.local\bin\sheetkeeper.exe"
    runs_the_service(shlex.split(exec_.findtext("t:Arguments", namespaces=NS), posix=True))
    assert task.find("t:Triggers/t:LogonTrigger", NS) is not None
    settings = task.find("t:Settings", NS)
    assert settings.findtext("t:ExecutionTimeLimit", namespaces=NS) == "PT0S"
    assert settings.findtext("t:MultipleInstancesPolicy", namespaces=NS) == "IgnoreNew"
    assert settings.find("t:RestartOnFailure", NS) is not None
    assert task.find("t:Principals/t:Principal", NS).findtext(
        "t:RunLevel", namespaces=NS) == "LeastPrivilege"
    # the install step replaces the placeholder user in both places
    assert [e.text for e in task.iter(f"{{{NS['t']}}}UserId")] == [r"DOMAIN\USER"] * 2
    assert "Replace('DOMAIN\\USER'" in TASK.read_text()
