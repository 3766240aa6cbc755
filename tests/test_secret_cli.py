"""`procclaw secret`: the keyring when there is one, the private file when there is not."""

import json
import os
import pty
import select
import stat
import subprocess
import time

import pytest


def secret(sandbox, *args, **kwargs):
    return sandbox.cli("secret", *args, **kwargs)


def test_without_a_keyring_secrets_go_to_a_private_file(sandbox):
    stored = secret(sandbox, "set", "API_KEY", "v-1", check=True).stdout.strip()
    assert stored == (
        f"stored secret 'API_KEY' in {sandbox.home.secrets_file} "
        "(no usable keyring: no keyring backend is available)"
    )
    assert stat.S_IMODE(sandbox.home.secrets_file.stat().st_mode) == 0o600
    assert secret(sandbox, "get", "API_KEY", check=True).stdout == (
        "API_KEY: ********  (--show prints it)\n"
    )
    assert secret(sandbox, "get", "API_KEY", "--show", check=True).stdout == "v-1\n"


def test_a_value_not_on_the_command_line_is_read_from_stdin(sandbox):
    secret(sandbox, "set", "PIPED", input="from stdin\n", check=True)
    assert secret(sandbox, "get", "PIPED", "--show", check=True).stdout == "from stdin\n"


def test_list_shows_each_name_and_its_store_but_no_value(sandbox, disk_keyring):
    assert "no secrets yet" in secret(sandbox, "list", check=True).stdout
    secret(sandbox, "set", "IN_KEYRING", "k-value", check=True)
    sandbox.env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    secret(sandbox, "set", "IN_FILE", "f-value", check=True)
    listing = secret(sandbox, "list", check=True).stdout
    assert listing.splitlines() == ["NAME        STORE", "IN_FILE     file", "IN_KEYRING  keyring"]


def test_with_a_keyring_the_value_goes_there_and_only_the_name_to_the_file(sandbox, disk_keyring):
    stored = secret(sandbox, "set", "TOKEN", "kr-secret", check=True).stdout
    assert stored == "stored secret 'TOKEN' in the keyring (disk keyring DiskKeyring)\n"
    assert json.loads(disk_keyring.read_text()) == {"procclaw/TOKEN": "kr-secret"}
    assert "kr-secret" not in sandbox.home.secrets_file.read_text()
    assert secret(sandbox, "get", "TOKEN", "--show", check=True).stdout == "kr-secret\n"
    deleted = secret(sandbox, "delete", "TOKEN", check=True).stdout
    assert deleted == "deleted secret 'TOKEN' from the keyring\n"
    assert json.loads(disk_keyring.read_text()) == {}
    assert secret(sandbox, "list", check=True).stdout.startswith("no secrets yet")


def test_a_secret_moves_to_the_store_it_was_last_set_in(sandbox, disk_keyring):
    sandbox.env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    secret(sandbox, "set", "MOVING", "old", check=True)
    sandbox.env["PYTHON_KEYRING_BACKEND"] = "disk_keyring.DiskKeyring"
    secret(sandbox, "set", "MOVING", "new", check=True)
    assert "old" not in sandbox.home.secrets_file.read_text()
    assert secret(sandbox, "get", "MOVING", "--show", check=True).stdout == "new\n"


def test_a_keyring_secret_without_the_keyring_says_where_it_is(sandbox, disk_keyring):
    secret(sandbox, "set", "TOKEN", "kr-secret", check=True)
    sandbox.env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    result = secret(sandbox, "get", "TOKEN")
    assert (result.returncode, result.stderr) == (
        1,
        "procclaw: secret 'TOKEN' is kept in the keyring, but no keyring backend is available\n",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("get", "API_KY"), "secret 'API_KY' not found (did you mean 'API_KEY'?)"),
        (("delete", "NOPE"), "secret 'NOPE' not found"),
        (("set", "two words", "x"), "'two words' is not a valid secret name: use letters"),
        (("set", "EMPTY", ""), "a secret cannot be empty"),
    ],
)
def test_bad_requests_get_one_line_and_change_nothing(sandbox, args, message):
    secret(sandbox, "set", "API_KEY", "v-1", check=True)
    before = sandbox.home.secrets_file.read_bytes()
    result = secret(sandbox, *args)
    assert result.returncode == 1
    assert result.stderr.startswith(f"procclaw: {message}")
    assert len(result.stderr.splitlines()) == 1
    assert sandbox.home.secrets_file.read_bytes() == before


def test_a_secrets_file_others_can_read_is_refused(sandbox):
    secret(sandbox, "set", "API_KEY", "v-1", check=True)
    sandbox.home.secrets_file.chmod(0o644)
    result = secret(sandbox, "get", "API_KEY", "--show")
    assert result.returncode == 1
    assert "may be read by others (mode 0644): refusing to use it" in result.stderr
    assert "v-1" not in result.stdout + result.stderr


def test_at_a_terminal_the_value_is_asked_for_without_echo(sandbox):
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sandbox.cli_path(), "secret", "set", "TYPED"],
        env=sandbox.env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,  # no controlling terminal: getpass works on stdin itself
    )
    os.close(terminal)
    try:
        screen = read_until(controller, b"(not shown): ")
        os.write(controller, b"typed-value\n")
        screen += read_until(controller, b"stored secret 'TYPED'")
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait(timeout=10)
        os.close(controller)
    assert b"typed-value" not in screen
    assert secret(sandbox, "get", "TYPED", "--show", check=True).stdout == "typed-value\n"


def read_until(fd: int, wanted: bytes, timeout: float = 10.0) -> bytes:
    """What the terminal shows, up to and including `wanted`."""
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0 and select.select([fd], [], [], left)[0], f"no {wanted!r} in {seen!r}"
        seen += os.read(fd, 1024)
    return seen
