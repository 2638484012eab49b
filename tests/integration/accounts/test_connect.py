"""`crm2cr connect crm|cleverreach` over real HTTP against both emulators (issues #3, #4).

A connection is saved only when the service confirmed it; a wrong URL, secret
or token is one clear line and a non-zero exit, with nothing written.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm2cr.cli.main import main
from crm2cr.emulators.cleverreach import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
from crm2cr.emulators.cleverreach.app import CleverReachEmulator
from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse import EMULATOR_ORGANISATION_ID
from crm2cr.emulators.dataverse.app import DataverseEmulator
from crm2cr.emulators.dataverse.seed import APP_CLIENT_ID, APP_CLIENT_SECRET
from crm2cr.services import accounts
from tests.support.servers import serve


@pytest.fixture(scope="module")
def dataverse_strict() -> Iterator[str]:
    emulator = DataverseEmulator(EmulatorOptions(auth="strict"))
    with serve(emulator) as url:
        yield url
    emulator.close()


@pytest.fixture(scope="module")
def dataverse_dev() -> Iterator[str]:
    emulator = DataverseEmulator(EmulatorOptions())
    with serve(emulator) as url:
        yield url
    emulator.close()


@pytest.fixture(scope="module")
def cleverreach_strict() -> Iterator[str]:
    emulator = CleverReachEmulator(EmulatorOptions(auth="strict"))
    with serve(emulator) as url:
        yield url
    emulator.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main([*args])
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def saved(home: Path) -> str:
    files = [p for p in home.iterdir() if p.is_file()]
    return "".join(p.read_text() for p in files)


def test_connect_crm_with_client_credentials_finds_the_tenant_and_saves_no_secret_in_files(
    capsys: pytest.CaptureFixture[str], dataverse_strict: str, crm2cr_home: Path
) -> None:
    code, out, _ = run(
        capsys,
        "connect",
        "crm",
        "--url",
        dataverse_strict,
        "--client-id",
        APP_CLIENT_ID,
        "--client-secret",
        APP_CLIENT_SECRET,
        "--json",
    )
    assert code == 0
    account = json.loads(out)
    assert account["organisation_id"] == EMULATOR_ORGANISATION_ID
    assert account["method"] == "client-credentials"
    connection = json.loads((crm2cr_home / "connections.json").read_text())["crm"]
    assert connection["tenant"] and connection["client_id"] == APP_CLIENT_ID
    assert APP_CLIENT_SECRET not in (crm2cr_home / "connections.json").read_text()
    with accounts.open_crm() as client:  # the saved connection signs in again
        assert client.who_am_i().organization_id == EMULATOR_ORGANISATION_ID


def test_a_wrong_client_secret_is_one_line_exit_2_and_nothing_saved(
    capsys: pytest.CaptureFixture[str], dataverse_strict: str, crm2cr_home: Path
) -> None:
    code, out, err = run(
        capsys,
        "connect",
        "crm",
        "--url",
        dataverse_strict,
        "--client-id",
        APP_CLIENT_ID,
        "--client-secret",
        "wrong-secret",
    )
    assert code == 2
    assert "Sign-in to Dataverse failed" in err
    assert "wrong-secret" not in err + out
    assert saved(crm2cr_home) == ""


def test_a_wrong_token_is_one_line_exit_2_and_nothing_saved(
    capsys: pytest.CaptureFixture[str], dataverse_strict: str, crm2cr_home: Path
) -> None:
    code, _, err = run(capsys, "connect", "crm", "--url", dataverse_strict, "--token", "forged")
    assert code == 2
    assert "401" in err
    assert "forged" not in err
    assert saved(crm2cr_home) == ""


def test_a_wrong_organisation_url_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], crm2cr_home: Path
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, _, err = run(capsys, "connect", "crm", "--url", url, "--token", "t")
    assert code != 0
    assert url in err
    assert "Traceback" not in err
    assert saved(crm2cr_home) == ""


def test_plain_http_to_a_remote_host_is_refused_before_any_request(
    capsys: pytest.CaptureFixture[str], crm2cr_home: Path
) -> None:
    code, _, err = run(
        capsys, "connect", "crm", "--url", "http://contoso.crm4.dynamics.com", "--token", "t"
    )
    assert code == 2
    assert "plain http" in err


def test_two_ways_of_signing_in_at_once_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], dataverse_dev: str
) -> None:
    code, _, err = run(
        capsys, "connect", "crm", "--url", dataverse_dev, "--token", "t", "--device-code"
    )
    assert code == 2
    assert "exactly one way" in err


def test_connect_crm_with_a_token_against_the_developer_emulator(
    capsys: pytest.CaptureFixture[str], dataverse_dev: str, crm2cr_home: Path
) -> None:
    code, out, _ = run(capsys, "connect", "crm", "--url", dataverse_dev, "--token", "dev-token")
    assert code == 0
    assert "Connected to the CRM" in out
    assert "dev-token" not in (crm2cr_home / "connections.json").read_text()


def test_connect_cleverreach_with_client_credentials_saves_the_token_apart(
    capsys: pytest.CaptureFixture[str], cleverreach_strict: str, crm2cr_home: Path
) -> None:
    code, out, _ = run(
        capsys,
        "connect",
        "cleverreach",
        "--url",
        cleverreach_strict,
        "--client-id",
        EMULATOR_CLIENT_ID,
        "--client-secret",
        EMULATOR_CLIENT_SECRET,
        "--json",
    )
    assert code == 0
    assert json.loads(out)["customer_id"]
    text = (crm2cr_home / "connections.json").read_text()
    assert EMULATOR_CLIENT_SECRET not in text
    with accounts.open_cleverreach() as client:  # the saved token works without the secret
        assert client.whoami().id == json.loads(out)["customer_id"]


def test_a_wrong_cleverreach_token_is_one_line_exit_2_and_nothing_saved(
    capsys: pytest.CaptureFixture[str], cleverreach_strict: str, crm2cr_home: Path
) -> None:
    code, _, err = run(
        capsys, "connect", "cleverreach", "--url", cleverreach_strict, "--token", "forged-token"
    )
    assert code == 2
    assert "forged-token" not in err
    assert len(err.strip().splitlines()) <= 2  # the problem, then the fix
    assert saved(crm2cr_home) == ""
