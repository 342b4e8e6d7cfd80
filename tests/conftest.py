"""Shared fixtures. Every test runs with private lobby directories and dummy AWS credentials, so
nothing reads or writes the real user's files or talks to a real account."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread

CONTRACTS = Path(__file__).parent / "contracts"

_AWS_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_GAMELIFT",
    "TEAMBATTLES_API_KEY",
    "NO_COLOR",
    "TEXTUAL_THEME",
)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    for name in _AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LOBBY_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("LOBBY_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("LOBBY_STATE_DIR", str(home / "state"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLOBBYTESTEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lobby-test-secret-not-real")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """Override in a test module to start the emulator differently."""
    return EmulatorConfig(time_travel=True)


@pytest.fixture
def emulator(emulator_config: EmulatorConfig) -> Iterator[EmulatorThread]:
    """The emulator on a loopback port, fresh for each test (in-memory SQLite)."""
    with EmulatorThread(emulator_config) as emu:
        yield emu


def pytest_report_header() -> str:
    return f"lobby tests; cpu count {os.cpu_count()}"
