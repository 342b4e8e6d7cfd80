"""Secrets never show: not in reprs, messages, screens, logs, nor on the command line.

The canary credentials come from tests/conftest.py, which also searches the whole run for them.
Here the places a secret could slip out are checked one by one, against the real emulator.
"""

from __future__ import annotations

import asyncio
import logging
import pickle

import httpx
import pytest

from lobby.cli import build_parser, main
from lobby.config import config_file
from lobby.config_schema import GameLiftProfile, Profile, Settings
from lobby.core.errors import AuthenticationFailed, BackendError
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.cli.profiles import flexmatch_backend as open_flexmatch
from lobby.flexmatch.signing import CredentialSource, resolve_aws
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.keys import ApiKey, check_key, load_api_key

HANG = 20  # a guard against hangs only


@pytest.fixture(autouse=True)
def _search(canaries) -> None:
    global CANARY_SECRET_ACCESS_KEY, CANARY_SESSION_TOKEN, CANARY_TB_KEY, canary_hits
    CANARY_SECRET_ACCESS_KEY, CANARY_SESSION_TOKEN = canaries.secret_access_key, canaries.session_token
    CANARY_TB_KEY, canary_hits = canaries.tb_key, canaries.hits


#: The canaries (from tests/conftest.py, through the ``canaries`` fixture above).
CANARY_SECRET_ACCESS_KEY = CANARY_SESSION_TOKEN = CANARY_TB_KEY = ""
canary_hits = None


def leaks(*texts: object) -> list[str]:
    return [hit for text in texts for hit in canary_hits(text)]


def test_the_search_finds_whole_and_partial_canaries():
    assert canary_hits("nothing here") == []
    assert canary_hits(f"x {CANARY_TB_KEY} y") == ["TeamBattles API key"]
    assert canary_hits(CANARY_SECRET_ACCESS_KEY[:22]) == ["AWS_SECRET_ACCESS_KEY"]  # cut, still found
    assert canary_hits(repr(CANARY_SESSION_TOKEN)) == ["AWS_SESSION_TOKEN"]


def test_the_environment_holds_the_canaries(aws_session_canary, tb_canary_key):
    import os

    assert os.environ["AWS_SECRET_ACCESS_KEY"] == CANARY_SECRET_ACCESS_KEY
    assert os.environ["AWS_SESSION_TOKEN"] == CANARY_SESSION_TOKEN
    assert os.environ["TEAMBATTLES_API_KEY"] == CANARY_TB_KEY


# --- settings ------------------------------------------------------------------------------------


def test_settings_never_hold_or_show_a_secret(tb_canary_key):
    settings = Settings.load()
    _, profile = settings.active()
    texts = [repr(settings), str(settings), settings.model_dump_json(), repr(profile), str(Profile())]
    assert leaks(*texts) == []


def test_a_key_put_in_the_config_file_is_refused_without_being_echoed(capsys):
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[profiles.live.teambattles]\napi_key = "{CANARY_TB_KEY}"\n', "utf-8")
    with pytest.raises(ValueError) as info:
        Settings.load()
    assert "api_key" in str(info.value) and leaks(str(info.value), repr(info.value)) == []
    for argv in (["matches"], ["tickets"], ["my-requests", "--offline"]):
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 1, argv
        assert err.startswith("lobby: the lobby settings are invalid at profiles.live.teambattles.api_key")
        assert "Traceback" not in err and leaks(out, err) == []


def test_an_aws_secret_in_the_environment_settings_never_reads_it(monkeypatch):
    monkeypatch.setenv("LOBBY_PROFILES__LIVE__GAMELIFT__SECRET", CANARY_SECRET_ACCESS_KEY)
    with pytest.raises(ValueError) as info:
        Settings.load()
    assert leaks(str(info.value), repr(info.value)) == []


# --- the TeamBattles key ---------------------------------------------------------------------------


def test_the_key_holder_shows_where_the_key_came_from_never_the_key(tb_canary_key):
    key = load_api_key("emulator", keyring_lookup=None)
    assert key.reveal() == CANARY_TB_KEY
    texts = [repr(key), str(key), f"{key}", "%s %r" % (key, key), [key], {"k": key}]
    assert leaks(*texts) == [] and "TEAMBATTLES_API_KEY" in repr(key)
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert not hasattr(key, "__dict__")  # nothing for vars() to print
    assert key.redact(f"sent {CANARY_TB_KEY} twice {CANARY_TB_KEY}") == "sent tb_*** twice tb_***"


def test_a_malformed_key_is_refused_without_showing_it():
    for bad in (CANARY_TB_KEY + " trailing", CANARY_TB_KEY.replace("tb_", "tk_"), CANARY_TB_KEY + "\x07"):
        with pytest.raises(BackendError) as info:
            check_key(bad, "a test")
        assert leaks(info.value.message, repr(info.value), str(info.value)) == []


async def test_the_teambattles_client_and_backend_show_no_key(tb_canary_key):
    from lobby.cli.profiles import open_teambattles

    client = TeamBattlesClient("http://127.0.0.1:9/api/v1", load_api_key("emulator", keyring_lookup=None))
    try:
        texts = [repr(client), str(client), repr(vars(client)), repr(client._http.headers), repr(client._http.auth)]
        assert leaks(*texts) == []
    finally:
        await client.aclose()
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('profile = "live"\n[profiles.live]\nkind = "live"\n', "utf-8")
    backend = open_teambattles()
    try:
        assert leaks(repr(backend), str(backend), repr(vars(backend)), repr(backend.client)) == []
    finally:
        await backend.aclose()


async def test_failed_auth_never_echoes_the_key(emulator, caplog):
    """A key the service does not know: the server's answer and lobby's error both omit it."""
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(base_url=emulator.url + "/api/v1") as http:
        wire = await http.get("/user/ongoing-matches", headers={"Authorization": f"Bearer {CANARY_TB_KEY}"})
    assert wire.status_code == 401 and leaks(wire.text, dict(wire.headers)) == []

    async with TeamBattlesClient(emulator.url + "/api/v1", check_key(CANARY_TB_KEY, "a test")) as client:
        with pytest.raises(AuthenticationFailed) as info:
            await client.ongoing_matches()
    error = info.value
    assert leaks(error.message, error.details, repr(error), str(error)) == []
    assert leaks(*(r.getMessage() for r in caplog.records)) == []


async def test_the_console_with_an_unknown_key_says_so_and_shows_no_key(emulator, tb_canary_key):
    import json
    import os

    from lobby import paths
    from lobby.cli.app import build_app
    from lobby.tui.messages import Health

    announce = paths.emulator_announcement()
    announce.parent.mkdir(parents=True, exist_ok=True)
    announce.write_text(json.dumps({"url": emulator.url, "pid": os.getpid()}))
    app = build_app(Settings.load())
    app.still = True
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        async with asyncio.timeout(HANG):
            while app.status.get("teambattles") is None or app.status["teambattles"].health is not Health.ERROR:
                await pilot.pause(0.05)
        await pilot.pause()
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "TeamBattles" in shown and "failed" in shown.lower()
        toasts = [f"{n.title} {n.message}" for n in app._notifications]
        assert toasts and leaks(shown, *toasts, app.status["teambattles"].detail) == []


# --- the FlexMatch signer and client ----------------------------------------------------------------


async def test_the_flexmatch_signer_client_and_backend_show_no_secret(emulator, aws_session_canary):
    context = await asyncio.to_thread(resolve_aws, None)
    assert context.credentials is not None
    frozen = context.credentials.get_frozen_credentials()
    assert (frozen.secret_key, frozen.token) == (CANARY_SECRET_ACCESS_KEY, CANARY_SESSION_TOKEN)
    profile = Profile(kind="live", gamelift=GameLiftProfile(endpoint_url=emulator.url, region="us-east-1", players=["ana"]))
    backend = await open_flexmatch(profile)
    try:
        await backend.client.describe_matchmaking(["nope"])  # signs with the canaries
        client = backend.client
        source = client.credentials
        await source.context()
        texts = [
            repr(context), str(context), repr(source), repr(vars(source)), repr(client), str(client),
            repr(vars(client)), repr(client._auth), repr(backend), str(backend), repr(client.http.headers),
        ]  # fmt: skip
        assert leaks(*texts) == []
    finally:
        await backend.aclose()


async def test_a_refused_signature_never_echoes_the_secret(monkeypatch, caplog):
    """The emulator knows another secret: GameLift's refusal, and lobby's error, omit ours."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "the-emulator-knows-this-one")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    with EmulatorThread(EmulatorConfig(verify_sigv4=True)) as emu:
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY_SECRET_ACCESS_KEY)
        monkeypatch.setenv("AWS_SESSION_TOKEN", CANARY_SESSION_TOKEN)
        profile = Profile(kind="live", gamelift=GameLiftProfile(endpoint_url=emu.url, region="us-east-1", players=["ana"]))
        backend = await open_flexmatch(profile)
        try:
            with pytest.raises(BackendError) as info:
                await backend.client.describe_matchmaking(["t-1"])
        finally:
            await backend.aclose()
    error = info.value
    assert error.code in ("UnrecognizedClientException", "InvalidSignatureException"), repr(error)
    assert leaks(error.message, error.details, repr(error), str(error)) == []
    assert leaks(*(r.getMessage() for r in caplog.records)) == []


async def test_the_credential_source_error_names_no_secret(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    source = CredentialSource("no-such-profile")
    with pytest.raises(BackendError) as info:
        await source.frozen()
    assert leaks(info.value.message, repr(info.value)) == []


# --- the command line ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["matches", "--api-key", "{tb}"],
        ["matches", "--api-key={tb}"],
        ["my-requests", "--token", "{tb}"],
        ["accept-match", "tbm_vipers_hp", "--team", "t_owls", "{tb}"],
        ["matches", "{tb}"],
        ["tickets", "--secret", "{aws}"],
        # The key inside a word: after a space, a Bearer, glued to text, in a list, as a value.
        ["matches", " {tb}"],
        ["matches", "Bearer {tb}"],
        ["matches", "--bogus", "x{tb}"],
        ["matches", "--bogus=x{tb}"],
        ["accept", "--active", "u_you,{tb}"],
        ["accept", "--active", "u_you;{tb}"],
        ["matches", "'{tb}'"],
        ["matches", "Authorization: Bearer {tb}"],
        ["matches", "authorization={tb}"],
        # Any Bearer token, TeamBattles' or not.
        ["matches", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc"],
        ["matches", "--bogus", "bearer  abc123"],
        # AWS secrets: by shape, glued, in a list, or by name.
        ["tickets", "{aws}"],
        ["tickets", "--bogus", "x:{aws}"],
        ["tickets", "--region", "us-east-1,{aws}"],
        ["tickets", "AWS_SECRET_ACCESS_KEY={aws}"],
        ["tickets", "--bogus", "{session}"],
        ["tickets", "aws_session_token=abc"],
    ],
)
def test_the_command_line_never_takes_a_key(argv, capsys):
    words = [
        word.format(tb=CANARY_TB_KEY, aws=CANARY_SECRET_ACCESS_KEY, session=CANARY_SESSION_TOKEN)
        for word in argv
    ]
    code = main(words)
    out, err = capsys.readouterr()
    assert code == 2 and "never goes on the command line" in err and "TEAMBATTLES_API_KEY" in err
    assert leaks(out, err) == []
    assert not any(word.strip() in out + err for word in words[1:]), "no word is echoed"


@pytest.mark.parametrize(
    "argv",
    [
        ["emulator", "--help"],
        ["emulator", "--db", "/tmp/tb_lobby/events.db", "--help"],
        ["emulator", "--scenario", "scenarios/TeamBattles2024/demo.json", "--help"],
        ["accept", "--help"],
        ["demo-keys", "--help"],
    ],
)
def test_ordinary_words_are_not_taken_for_secrets(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0, capsys.readouterr().err


def test_no_command_has_an_option_for_a_secret():
    import argparse

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {"matches", "accept-match", "my-requests", "tickets", "accept"} <= set(commands.choices)
    for name, sub in commands.choices.items():
        for action in sub._actions:
            for option in action.option_strings:
                assert not any(word in option for word in ("key", "token", "secret", "password")), (name, option)


def test_the_key_never_reaches_a_child_process_command_line(tb_canary_key):
    """`lobby web` starts `lobby moderate` per browser: its command line carries no secret."""
    from lobby.cli.moderate import moderate_command

    args = build_parser().parse_args(["web"])
    assert leaks(moderate_command(args)) == []


def test_an_api_key_object_in_an_f_string_or_log_stays_hidden(caplog):
    caplog.set_level(logging.DEBUG)
    key = ApiKey(CANARY_TB_KEY, "a test")
    logging.getLogger("lobby.test").debug("using %s / %r", key, key)
    assert leaks(*(r.getMessage() for r in caplog.records), f"{key!s} {key!r}") == []


# --- a whole session with the canary key ------------------------------------------------------------


@pytest.fixture
def canary_emulator(tmp_path, tb_canary_key):
    """The demo emulator, where the canary key is one of "you"'s keys, announced as running."""
    import json
    import os

    from lobby import paths
    from lobby.emulator.scenario import load_scenario

    doc = load_scenario().model_dump(mode="json")
    doc["teambattles"]["keys"].append(
        {**next(k for k in doc["teambattles"]["keys"] if k["key"] == "tb_test_you_pro_personal_0001"), "key": tb_canary_key}
    )
    doc["teambattles"]["bots"] = []
    scenario = tmp_path / "canary.json"
    scenario.write_text(json.dumps(doc), "utf-8")
    with EmulatorThread(EmulatorConfig(scenario=scenario)) as emu:
        announce = paths.emulator_announcement()
        announce.parent.mkdir(parents=True, exist_ok=True)
        announce.write_text(json.dumps({"url": emu.url, "pid": os.getpid()}))
        yield emu


def test_the_commands_work_with_the_key_and_never_print_it(canary_emulator, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    outputs = []
    for argv in (
        ["matches"],
        ["matches", "--json"],
        ["accept-match", "tbm_vipers_hp", "--team", "night-owls", "--active", "you,ada,bo,cy"],
        ["accept-match", "tbm_vipers_hp", "--team", "night-owls", "--active", "you,ada,bo,cy"],  # refused
        ["my-requests"],
        ["my-requests", "--json"],
    ):
        code = main(argv)
        out, err = capsys.readouterr()
        outputs += [out, err]
        assert code in (0, 1), (argv, err)
    assert "tbm_vipers_hp" in outputs[0] and outputs[4]  # the key worked
    assert leaks(*outputs, *(r.getMessage() for r in caplog.records)) == []


async def test_the_console_works_with_the_key_and_never_shows_it(canary_emulator):
    from lobby.cli.app import build_app
    from lobby.core.offers import OfferKind
    from lobby.tui.messages import Health

    app = build_app(Settings.load())
    app.still = True
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        async with asyncio.timeout(HANG):
            while app.status.get("teambattles") is None or app.status["teambattles"].health is not Health.LIVE:
                await pilot.pause(0.05)
            while app.store.get((OfferKind.TEAMBATTLES_MATCH, "tbm_vipers_hp")) is None:
                await pilot.pause(0.05)
        app.open_offer((OfferKind.TEAMBATTLES_MATCH, "tbm_vipers_hp"))
        await pilot.pause()
        async with asyncio.timeout(HANG):
            while not (app.screen.loaded or app.screen.load_error):  # the form asked the service
                await pilot.pause(0.05)
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "Open match" in shown and leaks(shown, *(n.message for n in app._notifications)) == []
