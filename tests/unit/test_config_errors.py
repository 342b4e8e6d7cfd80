"""A broken config file is one line naming the file, the line and the column; unknown keys,
themes and keymap ids are reported; a theme chosen in the console is kept."""

from __future__ import annotations

import pytest

from lobby import paths
from lobby.config import ConfigError, config_file
from lobby.config_schema import Settings, unknown_keys
from lobby.tui.settings_check import problems


def write_config(text: str) -> None:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_invalid_toml_is_one_line_with_file_line_and_column():
    write_config('profile = "emulator"\nbell = \n')
    with pytest.raises(ConfigError) as caught:
        Settings.load()
    message = str(caught.value)
    assert message == f"{config_file()}:2:8: Invalid value"
    assert "\n" not in message


def test_the_console_command_says_it_in_one_line(capsys):
    from lobby.cli import main

    write_config("[profiles.x\n")
    assert main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"lobby: {config_file()}:1:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_unknown_keys_themes_and_keymap_ids_are_reported():
    write_config(
        'colour = "red"\nbel = false\ntheme = "nope"\n[keymap]\n"lobby.nothing" = "x"\n"lobby.home.filter" = "f"\n'
    )
    assert unknown_keys() == ["colour", "bel"]
    said = problems(Settings.load(), ["lobby", "textual-dark"], known_ids={"lobby.home.filter"})
    assert said[0].endswith("unknown settings ignored: colour, bel.")
    assert said[1] == "No theme named 'nope'; using 'lobby' (themes: lobby, textual-dark)."
    assert said[2].startswith("keymap: no binding with id lobby.nothing ")


def test_every_declared_binding_id_is_known():
    from lobby.tui.settings_check import binding_ids

    ids = binding_ids()
    assert {"lobby.home.filter", "lobby.tb.refuse", "lobby.ticket.accept", "lobby.moderator.sort_left"} <= ids


async def test_a_theme_chosen_in_the_console_is_kept():
    from lobby.tui.app import LobbyApp

    app = LobbyApp(settings=Settings.load(), still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.theme = "textual-light"
        await pilot.pause()
    assert (paths.state_dir() / "theme").read_text() == "textual-light"
    again = LobbyApp(settings=Settings.load(), still=True)
    assert again.theme == "textual-light"


def test_alert_settings_are_checked_and_a_bad_one_is_one_line(capsys):
    from lobby.cli import main

    assert Settings.load().reminders == [30.0, 10.0] and not Settings.load().visual_only
    write_config("visual_only = true\nreminders = [10, 60, 10]\ndesktop_notifications = \"osc777\"\n")
    settings = Settings.load()
    assert settings.visual_only and settings.reminders == [60.0, 10.0] and settings.desktop_notifications == "osc777"
    assert unknown_keys() == []
    write_config("reminders = [30, -5]\n")
    assert main([]) == 1
    err = capsys.readouterr().err
    assert err == (
        "lobby: the lobby settings are invalid at reminders: Value error, each reminder is a number of "
        "seconds above 0 and at most 3600, e.g. [30, 10]\n"
    )
    write_config('desktop_notifications = "beep"\n')
    assert main([]) == 1
    assert capsys.readouterr().err.startswith("lobby: the lobby settings are invalid at desktop_notifications: ")
