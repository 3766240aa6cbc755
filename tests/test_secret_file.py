"""The fallback secrets file: private, refused when it is not, never half-written."""

import json
import os
import stat

import pytest

from procclaw.secrets.errors import SecretError
from procclaw.secrets.secret_file import SecretFile


@pytest.fixture
def secrets(tmp_path) -> SecretFile:
    return SecretFile(tmp_path / ".secrets")


def store(secrets: SecretFile, **values: str) -> None:
    with secrets.update() as contents:
        contents.values.update(values)


def test_a_new_file_is_private_to_its_owner_whatever_the_umask(secrets):
    old = os.umask(0)
    try:
        store(secrets, TOKEN="abc")
    finally:
        os.umask(old)
    info = secrets.path.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == os.geteuid()
    assert secrets.read().values == {"TOKEN": "abc"}


def test_a_write_leaves_no_temporary_file_behind(secrets):
    store(secrets, A="1")
    store(secrets, B="2")
    assert sorted(p.name for p in secrets.path.parent.iterdir()) == [".secrets", ".secrets.lock"]
    assert secrets.read().values == {"A": "1", "B": "2"}


def test_a_write_that_fails_midway_keeps_the_old_file_whole(secrets, monkeypatch):
    store(secrets, A="1")

    def disk_full(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        store(secrets, B="2")
    monkeypatch.undo()
    assert secrets.read().values == {"A": "1"}
    assert sorted(p.name for p in secrets.path.parent.iterdir()) == [".secrets", ".secrets.lock"]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_a_file_others_may_read_is_refused_with_the_fix(secrets, mode):
    store(secrets, A="1")
    os.chmod(secrets.path, mode)
    with pytest.raises(SecretError) as refused:
        secrets.read()
    assert str(refused.value) == (
        f"{secrets.path} may be read by others (mode {mode:04o}): refusing to use it; "
        f"if nobody else had access, `chmod 600 {secrets.path}`, else set your secrets again"
    )
    with pytest.raises(SecretError), secrets.update():
        pass  # nor written over


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_file_of_another_user_is_refused(secrets):
    store(secrets, A="1")
    os.chown(secrets.path, 12345, -1)
    with pytest.raises(SecretError, match=r"belongs to uid 12345, not to you: refusing"):
        secrets.read()


def test_a_symlink_in_place_of_the_file_is_refused(secrets, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text('{"version": 1, "values": {}, "in_keyring": []}')
    elsewhere.chmod(0o600)
    secrets.path.symlink_to(elsewhere)
    with pytest.raises(SecretError, match=r"cannot read .*\.secrets"):
        secrets.read()


@pytest.mark.parametrize(
    "text", ["", "not json", "[]", '{"version": 2}', '{"version": 1, "values": {"A": 1}}']
)
def test_a_damaged_file_is_refused_not_overwritten(secrets, text):
    secrets.path.write_text(text)
    secrets.path.chmod(0o600)
    with pytest.raises(SecretError, match=r"is damaged \(not a ProcClaw secrets file\)"):
        secrets.read()
    with pytest.raises(SecretError), secrets.update():
        pass
    assert secrets.path.read_text() == text


def test_the_file_keeps_the_names_of_keyring_secrets_apart_from_its_values(secrets):
    with secrets.update() as contents:
        contents.values["LOCAL"] = "v"
        contents.in_keyring.add("REMOTE")
    document = json.loads(secrets.path.read_text())
    assert document == {"version": 1, "values": {"LOCAL": "v"}, "in_keyring": ["REMOTE"]}
