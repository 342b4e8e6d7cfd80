import pytest

from lobby.config import ConfigError, config_file, first_look
from lobby.config_schema import BUILTIN_PROFILES, Settings


def test_defaults_to_the_builtin_emulator_profile():
    name, profile = Settings.load().active()
    assert name == "emulator" and profile.kind == "emulator"


def test_toml_file_and_environment(monkeypatch):
    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text(
        'profile = "aws"\nbell = false\n'
        '[profiles.aws]\nkind = "live"\n'
        '[profiles.aws.gamelift]\nregion = "eu-west-1"\nplayers = ["p1", "p2"]\n'
    )
    settings = Settings.load()
    name, profile = settings.active()
    assert (name, profile.gamelift.region, profile.gamelift.players) == ("aws", "eu-west-1", ["p1", "p2"])
    assert settings.bell is False
    monkeypatch.setenv("LOBBY_PROFILE", "emulator")
    assert Settings.load().active()[0] == "emulator"


def test_unknown_profile_is_a_plain_error(monkeypatch):
    monkeypatch.setenv("LOBBY_PROFILE", "nope")
    with pytest.raises(ValueError, match="no profile named 'nope'"):
        Settings.load().active()


def test_poll_interval_respects_aws_guidance():
    from pydantic import ValidationError

    from lobby.config_schema import GameLiftProfile

    with pytest.raises(ValidationError):
        GameLiftProfile(poll_interval=2)


# --- the first look: what the console's first frame needs, read without the schema -------------


def _write(text: str) -> None:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _agrees(look) -> None:
    """The first look says what the validated settings say."""
    settings = Settings.load()
    assert (look.profile, look.theme, dict(look.keymap)) == (settings.profile, settings.theme, settings.keymap)
    merged = {**BUILTIN_PROFILES, **settings.profiles}
    for name in {*merged, look.profile, "nowhere"}:
        assert look.kind(name) == (merged[name].kind if name in merged else None)


FIRST_LOOK_CASES = [
    ("", {}),
    (
        'profile = "bench"\ntheme = "nord"\nbell = false\n[keymap]\n"lobby.home.filter" = "f"\n'
        '[profiles.bench]\nkind = "emulator"\n[profiles.bench.gamelift]\nplayers = ["p1"]\n'
        '[profiles.aws.gamelift]\nregion = "eu-west-1"\n',
        {},
    ),
    (
        'profile = "aws"\n[profiles.aws]\nkind = "live"\n[profiles.emulator.teambattles]\nuser = "u"\n',
        {"LOBBY_PROFILE": "emulator", "LOBBY_THEME": "dracula"},
    ),
    (
        '[keymap]\n"lobby.home.filter" = "f"\n"lobby.help" = "f2"\n',
        {"lobby_keymap": '{"lobby.help": "f3", "lobby.quit": "ctrl+x"}', "LOBBY_KEYMAP__lobby.refresh": "f5"},
    ),
    (
        '[profiles.x]\nkind = "emulator"\n',
        {"LOBBY_PROFILES": '{"y": {"kind": "emulator"}}', "LOBBY_PROFILES__X__KIND": "live", "LOBBY_PROFILE": "x"},
    ),
]


@pytest.mark.parametrize(("text", "environ"), FIRST_LOOK_CASES)
def test_the_first_look_reads_what_the_schema_reads(monkeypatch, text, environ):
    _write(text)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    _agrees(first_look())


def test_the_first_look_reads_the_schemas_own_names_and_defaults():
    from lobby.config import DEFAULT_KIND, DEFAULT_PROFILE, DEFAULT_THEME, KEYMAP, KIND, PROFILE, PROFILES, THEME
    from lobby.config_schema import Profile

    fields = Settings.model_fields
    assert {PROFILE, THEME, KEYMAP, PROFILES} <= set(fields) and KIND in Profile.model_fields
    assert (fields[PROFILE].default, fields[THEME].default) == (DEFAULT_PROFILE, DEFAULT_THEME)
    assert Profile.model_fields[KIND].default == DEFAULT_KIND


def test_the_first_look_imports_no_pydantic_and_a_broken_file_is_one_line():
    import subprocess
    import sys

    _write('profile = "x"\ntheme = \n')
    script = (
        "import sys\n"
        "from lobby.config import ConfigError, first_look\n"
        "try:\n"
        "    first_look()\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_settings')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out == f"{config_file()}:2:9: Invalid value\n[]\n"


def test_values_of_the_wrong_type_read_as_the_defaults():
    _write('profile = 3\ntheme = ["x"]\nkeymap = "f"\n[profiles.z]\nkind = "other"\n')
    look = first_look()
    assert (look.profile, look.theme, dict(look.keymap), look.kind("z")) == ("emulator", "lobby", {}, None)


# --- the environment, read for the schema ---------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "text", "expected"),
    [
        ({"LOBBY_REMINDERS": "[45, 5]", "LOBBY_BELL": "false"}, "", {"reminders": [45.0, 5.0], "bell": False}),
        ({"lobby_theme": "textual-dark", "LOBBY_VISUAL_ONLY": "1"}, "", {"theme": "textual-dark", "visual_only": True}),
        ({"LOBBY_KEYMAP": '{"lobby.help": "f2"}'}, '[keymap]\n"lobby.quit" = "ctrl+w"\n',
         {"keymap": {"lobby.help": "f2", "lobby.quit": "ctrl+w"}}),
        # A nested variable: a list as JSON, a number as text; merged key by key over the file.
        (
            {"LOBBY_PROFILES__AWS__GAMELIFT__PLAYERS": '["p1"]', "LOBBY_PROFILES__AWS__GAMELIFT__POLL_INTERVAL": "15"},
            '[profiles.aws]\nkind = "live"\n[profiles.aws.gamelift]\nregion = "eu-west-1"\nplayers = ["a"]\n',
            {"profiles.aws": ("live", "eu-west-1", ["p1"], 15.0)},
        ),
        # A whole table as JSON, a key of it in its own variable (names any case).
        (
            {"LOBBY_PROFILES": '{"a": {"kind": "emulator"}}', "LOBBY_PROFILES__A__GAMELIFT": '{"region": "r"}'},
            "",
            {"profiles.a": ("emulator", "r", [], 10.0)},
        ),
        # Names the schema does not have: ignored at the top and under a plain setting.
        ({"LOBBY_UNKNOWN": "1", "LOBBY_THEME__X": "1", "LOBBY_CONFIG_DIR_TOO": "x"}, "", {"theme": "lobby"}),
    ],
)
def test_the_environment_over_the_file(monkeypatch, environ, text, expected):
    _write(text)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings = Settings.load()
    for name, value in expected.items():
        if name.startswith("profiles."):
            profile = settings.profiles[name.split(".", 1)[1]]
            gamelift = profile.gamelift
            assert (profile.kind, gamelift.region, gamelift.players, gamelift.poll_interval) == value
        else:
            assert getattr(settings, name) == value
    assert Settings.load(bell=True).bell is True  # what is given in code is strongest


@pytest.mark.parametrize(
    "variable",
    ["LOBBY_REMINDERS", "LOBBY_PROFILES", "LOBBY_PROFILES__AWS__GAMELIFT__PLAYERS", "LOBBY_KEYMAP"],
)
@pytest.mark.parametrize("text", ["nope", "[bad", ""])
def test_a_table_or_list_that_is_not_json_is_one_line_naming_the_variable(monkeypatch, variable, text):
    monkeypatch.setenv(variable, text)
    with pytest.raises(ConfigError) as raised:
        Settings.load()
    said = str(raised.value)
    assert said.startswith(f"{variable}: not valid JSON (") and "\n" not in said


def test_an_unknown_key_of_a_profile_in_the_environment_is_reported(monkeypatch):
    from pydantic import ValidationError

    monkeypatch.setenv("LOBBY_PROFILES__AWS__NOPE", "1")
    with pytest.raises(ValidationError, match="profiles.aws.nope"):
        Settings.load()


def test_only_loading_reads_the_sources_and_the_schema_needs_no_pydantic_settings():
    import subprocess
    import sys

    _write('theme = "textual-light"\n')
    assert Settings().theme == "lobby" and Settings.load().theme == "textual-light"
    script = "import sys, lobby.config_schema\nprint('pydantic_settings' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out == "False\n"
