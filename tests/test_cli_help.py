"""Every command documents itself (the meta-test sqlite-utils keeps)."""
import pytest

from service.cli import build_parser, main

COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)


def test_the_commands():
    assert COMMANDS == ["apply", "audit", "check", "doctor", "export", "google-login", "import",
                        "install", "restore", "run", "snapshot", "snapshots", "status", "undo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: sheetkeeper {command}")
    assert len(out.splitlines()) > 5
    choices = build_parser()._subparsers._group_actions[0]
    assert any(a.dest == command and a.help for a in choices._choices_actions)
