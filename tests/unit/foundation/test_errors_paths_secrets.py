"""The error tree, the per-user folder and the secret store."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from crm2cr import errors, paths, secrets


def test_user_errors_exit_2_and_run_errors_exit_1() -> None:
    assert errors.InvalidInput("x").exit_code == 2
    assert errors.NotConnected("dataverse").exit_code == 2
    assert errors.AuthError("cleverreach", 401, "Unauthorized").exit_code == 2
    assert errors.ServerError("dataverse", 503, "down").exit_code == 1
    assert errors.SideEmpty("empty").exit_code == 1


def test_api_errors_keep_the_services_code_and_message() -> None:
    error = errors.NotFoundError(
        "dataverse",
        404,
        "contact With Id = x Does Not Exist",
        code="0x80040217",
        method="GET",
        url="/contacts(x)",
    )
    assert error.code == "0x80040217"
    assert error.api_message == "contact With Id = x Does Not Exist"
    assert "Dataverse answered 404" in str(error)


def test_a_message_and_its_fix_fit_on_one_line() -> None:
    error = errors.NotConnected("cleverreach")
    assert error.one_line() == (
        "Not connected to CleverReach. Run 'crm2cr connect cleverreach --help' to sign in first."
    )


def test_crm2cr_home_overrides_the_per_user_folder(crm2cr_home: Path) -> None:
    assert paths.home() == crm2cr_home
    assert paths.file("settings.json").parent == crm2cr_home


def test_private_files_are_0600_and_written_atomically(crm2cr_home: Path) -> None:
    target = crm2cr_home / "x.json"
    paths.write_private(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not list(crm2cr_home.glob(".x.json.tmp"))


def test_the_file_secret_store_keeps_secrets_in_a_0600_file(crm2cr_home: Path) -> None:
    store = secrets.secret_store()
    assert store.kind == "file"
    store.set("cleverreach.token", "tok-123456")
    assert store.get("cleverreach.token") == "tok-123456"
    secret_file = crm2cr_home / secrets.FILE_NAME
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    store.delete("cleverreach.token")
    assert store.get("cleverreach.token") is None


def test_a_damaged_secret_file_is_a_config_error_naming_the_fix(crm2cr_home: Path) -> None:
    (crm2cr_home / secrets.FILE_NAME).write_text("{not json")
    with pytest.raises(errors.ConfigError) as caught:
        secrets.secret_store().get("x")
    assert "crm2cr connect" in caught.value.hint


def test_an_unknown_forced_store_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(secrets.STORE_ENV, "vault")
    with pytest.raises(errors.ConfigError):
        secrets.secret_store()


def test_redact_hides_secrets_and_bearer_tokens() -> None:
    text = "failed with secret s3cr3t-value and header Authorization: Bearer abc.def-ghi"
    cleaned = secrets.redact(text, ["s3cr3t-value", None, ""])
    assert "s3cr3t-value" not in cleaned
    assert "abc.def-ghi" not in cleaned
    assert cleaned.count(secrets.MASK) == 2
