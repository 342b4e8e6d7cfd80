"""Where lobby keeps its files, per the platform's conventions (XDG on Linux)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

APP = "lobby"


def config_dir() -> Path:
    return Path(os.environ.get("LOBBY_CONFIG_DIR") or platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    return Path(os.environ.get("LOBBY_DATA_DIR") or platformdirs.user_data_dir(APP))


def state_dir() -> Path:
    return Path(os.environ.get("LOBBY_STATE_DIR") or platformdirs.user_state_dir(APP))


def default_emulator_db() -> Path:
    return data_dir() / "emulator.db"


def emulator_announcement() -> Path:
    """A running emulator writes its base URL here, so other lobby commands can find it."""
    return state_dir() / "emulator.json"


def read_emulator_announcement() -> str | None:
    """The base URL of the emulator that announced itself, if its process is still alive."""
    path = emulator_announcement()
    try:
        info = json.loads(path.read_text())
        url, pid = str(info["url"]), int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return url


def styles_dir() -> Path:
    """The application stylesheets: inside the installed package (the wheel carries styles/ as
    lobby/styles), or the repository's styles/ folder in a source checkout."""
    packaged = Path(__file__).resolve().parent / "styles"  # the package's own folder, as installed
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "styles"
