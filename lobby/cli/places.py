"""`lobby paths`: where lobby reads its settings and keeps its files on this machine."""

from __future__ import annotations

import argparse
import json
import os

from lobby import paths

#: The environment variable that moves each folder, by the name `lobby paths --json` gives it.
OVERRIDES = {"config": "LOBBY_CONFIG_DIR", "data": "LOBBY_DATA_DIR", "state": "LOBBY_STATE_DIR"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "paths",
        help="print where lobby reads its settings and keeps its data and state",
        description="Print the config file and the config, data and state folders of this user "
        "account (each can be moved with its LOBBY_*_DIR environment variable).",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run_paths)


def places() -> dict[str, dict[str, object]]:
    """Each place by name: its path, whether it exists, and the environment variable that set
    it (None when it is the platform's default). The state folder holds my TeamBattles
    requests, kept drafts, the chosen theme and the running emulator's address."""
    from lobby.config import config_file

    found = {
        "configFile": (config_file(), OVERRIDES["config"]),
        "config": (paths.config_dir(), OVERRIDES["config"]),
        "data": (paths.data_dir(), OVERRIDES["data"]),
        "state": (paths.state_dir(), OVERRIDES["state"]),
        "emulatorDatabase": (paths.default_emulator_db(), OVERRIDES["data"]),
    }
    return {
        name: {
            "path": str(path),
            "exists": path.exists(),
            "setBy": variable if os.environ.get(variable) else None,
        }
        for name, (path, variable) in found.items()
    }


def run_paths(args: argparse.Namespace) -> int:
    from lobby.cli import emit

    found = places()
    if args.json:
        return emit(json.dumps(found, indent=2))
    labels = {
        "configFile": "config file",
        "config": "config",
        "data": "data",
        "state": "state",
        "emulatorDatabase": "emulator db",
    }
    width = max(len(label) for label in labels.values())
    lines = []
    for name, label in labels.items():
        place = found[name]
        notes = [] if place["exists"] else ["not there yet"]
        if place["setBy"]:
            notes.append(f"from ${place['setBy']}")
        suffix = f"  ({', '.join(notes)})" if notes else ""
        lines.append(f"{label.ljust(width)}  {place['path']}{suffix}")
    return emit("\n".join(lines))
