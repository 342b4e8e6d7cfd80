"""Where the TeamBattles key comes from, and that it never shows."""

from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path

import pytest

from lobby.core.errors import NotConfigured
from lobby.teambattles.keys import ApiKey, check_key, load_api_key, read_key_file

CANARY = "tb_CANARYcanary0123456789SECRET"


def _key_file(tmp_path: Path, mode: int, text: str = CANARY + "\n") -> Path:
    path = tmp_path / "teambattles.key"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_environment_variable_comes_first(tmp_path: Path) -> None:
    key = load_api_key(
        "live",
        _key_file(tmp_path, 0o600, "tb_fromfile_aaaaaaaaaaaaaaaa"),
        environ={"TEAMBATTLES_API_KEY": f"  {CANARY}\n"},
        keyring_lookup=lambda s, u: "tb_fromkeyring_aaaaaaaaaaaa",
    )
    assert key.reveal() == CANARY
    assert "TEAMBATTLES_API_KEY" in key.source


def test_keyring_next_then_the_key_file(tmp_path: Path) -> None:
    asked: list[tuple[str, str]] = []

    def lookup(service: str, user: str) -> str | None:
        asked.append((service, user))
        return CANARY

    key = load_api_key("live", None, environ={}, keyring_lookup=lookup)
    assert key.reveal() == CANARY and asked == [("lobby", "teambattles:live")]

    key = load_api_key(
        "live", _key_file(tmp_path, 0o600), environ={}, keyring_lookup=lambda s, u: None
    )
    assert key.reveal() == CANARY and "key file" in key.source


def test_a_broken_keyring_is_skipped(tmp_path: Path) -> None:
    def broken(service: str, user: str) -> str | None:
        raise RuntimeError("no D-Bus session")

    key = load_api_key("live", _key_file(tmp_path, 0o600), environ={}, keyring_lookup=broken)
    assert key.reveal() == CANARY


def test_the_installed_keyring_package_is_used_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: CANARY if user == "teambattles:emulator" else None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    assert load_api_key("emulator", None, environ={}).reveal() == CANARY


def test_no_keyring_package_is_fine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring -> ImportError
    assert load_api_key("live", _key_file(tmp_path, 0o600), environ={}).reveal() == CANARY
    with pytest.raises(NotConfigured) as info:
        load_api_key("live", None, environ={})
    assert "TEAMBATTLES_API_KEY" in info.value.message and "key_file" in info.value.message


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = _key_file(tmp_path, mode)
    with pytest.raises(NotConfigured) as info:
        read_key_file(path)
    assert "chmod 600" in info.value.message and str(path) in info.value.message
    assert CANARY not in info.value.message


def test_missing_or_empty_key_files_are_plain_errors(tmp_path: Path) -> None:
    with pytest.raises(NotConfigured, match="does not exist"):
        read_key_file(tmp_path / "nope")
    with pytest.raises(NotConfigured, match="is empty"):
        read_key_file(_key_file(tmp_path, 0o600, "\n\n"))


def test_the_tb_prefix_is_checked_without_showing_the_key() -> None:
    secret = "sk_live_CANARY_not_a_teambattles_key"
    with pytest.raises(NotConfigured) as info:
        check_key(secret, "the TEAMBATTLES_API_KEY environment variable")
    assert "tb_" in info.value.message and secret not in str(info.value) and secret not in repr(info.value)
    with pytest.raises(NotConfigured):
        check_key("tb_has space inside", "x")
    with pytest.raises(NotConfigured):
        check_key("tb_", "x")


def test_the_key_never_shows_in_repr_str_or_pickles() -> None:
    key = ApiKey(CANARY, "the OS keyring")
    for text in (repr(key), str(key), f"{key}", repr([key]), repr({"k": key})):
        assert CANARY not in text
    assert "OS keyring" in repr(key)
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert key.redact(f"echo {CANARY} back") == "echo tb_*** back"
