import pytest

from lobby.config import Settings, config_file


def test_defaults_to_the_builtin_emulator_profile():
    name, profile = Settings().active()
    assert name == "emulator" and profile.kind == "emulator"


def test_toml_file_and_environment(monkeypatch):
    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text(
        'profile = "aws"\nbell = false\n'
        '[profiles.aws]\nkind = "live"\n'
        '[profiles.aws.gamelift]\nregion = "eu-west-1"\nplayers = ["p1", "p2"]\n'
    )
    settings = Settings()
    name, profile = settings.active()
    assert (name, profile.gamelift.region, profile.gamelift.players) == ("aws", "eu-west-1", ["p1", "p2"])
    assert settings.bell is False
    monkeypatch.setenv("LOBBY_PROFILE", "emulator")
    assert Settings().active()[0] == "emulator"


def test_unknown_profile_is_a_plain_error(monkeypatch):
    monkeypatch.setenv("LOBBY_PROFILE", "nope")
    with pytest.raises(ValueError, match="no profile named 'nope'"):
        Settings().active()


def test_poll_interval_respects_aws_guidance():
    from pydantic import ValidationError

    from lobby.config import GameLiftProfile

    with pytest.raises(ValidationError):
        GameLiftProfile(poll_interval=2)
