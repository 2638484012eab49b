"""The command line's contract: version, usage errors exit 2, crm2cr errors render once."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crm2cr.cli import main as cli_main
from crm2cr.errors import InvalidInput


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crm2cr", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version_prints_and_exits_0() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("crm2cr ")


def test_an_unknown_command_is_a_usage_error_with_exit_2() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "frobnicate" in result.stderr


def test_an_invalid_option_value_exits_2() -> None:
    result = run("emulate", "dataverse", "--fault-rate", "7")
    assert result.returncode == 2


def test_a_crm2cr_error_is_rendered_with_its_fix_and_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise InvalidInput("The group id 'abc' is not a number.", hint="Pass --group 123.")

    monkeypatch.setattr(cli_main, "app", fail)
    with pytest.raises(SystemExit) as done:
        cli_main.main([])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "The group id 'abc' is not a number." in err
    assert "Pass --group 123." in err
