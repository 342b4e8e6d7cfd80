"""Shared fixtures. Every test runs with private lobby directories and canary AWS credentials, so
nothing reads or writes the real user's files or talks to a real account.

The credentials are canaries: distinctive values that must never be seen (the session token
only in tests that ask for it, ``aws_session_canary``; the TeamBattles key in tests that
need a key source, ``tb_canary_key``). Throughout the run,
every log record, every test report (captured output, logs, failures), every typed backend
error, every screen and toast of every app a test drives, and at the end every snapshot
picture on disk are searched for them; a single hit fails the whole run, naming where it was
seen. Under pytest-xdist each worker writes what it saw to a shared directory and the
controller reads them all at the end.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread

CONTRACTS = Path(__file__).parent / "contracts"
TESTS = Path(__file__).parent

# --- canary credentials ---------------------------------------------------------------------------

CANARY_ACCESS_KEY_ID = "AKIDLOBBYTESTEXAMPLE"  # an id, not a secret: it may show
CANARY_SECRET_ACCESS_KEY = "wJalrCANARYxSECRETxK7MDENGbPxRfiCYzLOBBY0"
CANARY_SESSION_TOKEN = "IQoJb3JpZ2luCANARYxSESSIONxTOKENxLobbyFwoGZXIvYXdzEJr//////////wEaDA=="
#: A well-formed TeamBattles key for tests that need a key source (see ``tb_canary_key``).
CANARY_TB_KEY = "tb_test_CANARYxTBKEYx7f3a9c0d5e1b"  # the emulator takes test keys only
#: Each canary, and a fragment of it that a partial or reformatted leak would still carry.
CANARIES = {
    "AWS_SECRET_ACCESS_KEY": (CANARY_SECRET_ACCESS_KEY, "CANARYxSECRET"),
    "AWS_SESSION_TOKEN": (CANARY_SESSION_TOKEN, "CANARYxSESSION"),
    "TeamBattles API key": (CANARY_TB_KEY, "CANARYxTBKEY"),
}
_HITS_DIR_VAR = "LOBBY_TEST_CANARY_DIR"


def canary_hits(text: object) -> list[str]:
    """The names of the canaries (or their fragments) found in ``text``."""
    value = text if isinstance(text, str) else str(text)
    return [name for name, (whole, fragment) in CANARIES.items() if whole in value or fragment in value]

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
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CANARY_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY_SECRET_ACCESS_KEY)
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


@pytest.fixture
def raised_limits_scenario(tmp_path: Path) -> Path:
    """A scenario file: the demo's, with the TeamBattles pro bucket raised above the service's
    own, for a reason that carries a terminal escape (network text wherever it is shown)."""
    from lobby.emulator.scenario import load_scenario

    doc = load_scenario().model_dump(mode="json")
    teambattles = doc["teambattles"]
    teambattles["raised_rate_limits"] = {
        **teambattles["rate_limits"],
        "pro": {"burst": 5000, "per_second": 500},
        "reason": "load test \x1b[31mred",
    }
    path = tmp_path / "raised-limits.json"
    path.write_text(json.dumps(doc), "utf-8")
    return path


@pytest.fixture
def canaries() -> SimpleNamespace:
    """The canary values and the search for them (test modules cannot import a conftest)."""
    return SimpleNamespace(
        secret_access_key=CANARY_SECRET_ACCESS_KEY,
        session_token=CANARY_SESSION_TOKEN,
        tb_key=CANARY_TB_KEY,
        names=tuple(CANARIES),
        hits=canary_hits,
    )


@pytest.fixture
def aws_session_canary(monkeypatch: pytest.MonkeyPatch) -> str:
    """The canary session token in AWS_SESSION_TOKEN, for tests of temporary credentials (not
    set for every test: requests signed by hand with a key pair alone must still verify)."""
    monkeypatch.setenv("AWS_SESSION_TOKEN", CANARY_SESSION_TOKEN)
    return CANARY_SESSION_TOKEN


@pytest.fixture
def tb_canary_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The canary TeamBattles key, in TEAMBATTLES_API_KEY (the first key source lobby reads)."""
    monkeypatch.setenv("TEAMBATTLES_API_KEY", CANARY_TB_KEY)
    return CANARY_TB_KEY


def pytest_report_header() -> str:
    return f"lobby tests; cpu count {os.cpu_count()}"


# --- the canary watch -----------------------------------------------------------------------------


class _Watch:
    """What one process saw: counts of texts searched, and every hit with where it was seen."""

    def __init__(self, directory: Path, name: str) -> None:
        self.path = directory / f"canaries-{name}.json"
        self.counts: dict[str, int] = {}
        self.hits: list[str] = []

    def check(self, kind: str, where: str, text: object) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        for canary in canary_hits(text):
            self.hits.append(f"{canary} in {kind}: {where}")

    def save(self) -> None:
        self.path.write_text(json.dumps({"counts": self.counts, "hits": self.hits}), "utf-8")


class _LogWatch(logging.Handler):
    def __init__(self, watch: _Watch) -> None:
        super().__init__(logging.DEBUG)
        self.watch = watch

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a record whose arguments do not format: search its parts
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]!r} {record.exc_info[1]}"
        self.watch.check("log record", f"{record.name} {record.levelname}", text)


_watch: _Watch | None = None


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    global _watch
    if not _is_worker(config):
        # Before pytest-xdist starts its workers, which inherit the environment.
        os.environ[_HITS_DIR_VAR] = tempfile.mkdtemp(prefix="lobby-canaries-")
    name = config.workerinput["workerid"] if _is_worker(config) else "main"  # type: ignore[attr-defined]
    _watch = _Watch(Path(os.environ[_HITS_DIR_VAR]), name)
    logging.getLogger().addHandler(_LogWatch(_watch))
    # lobby's own records at every level, and httpx's one line per request.
    logging.getLogger("lobby").setLevel(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.INFO)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Every report: captured output and logs, and the failure text when there is one."""
    if _watch is None or hasattr(report, "node"):  # the controller's copy of a worker's report
        return
    where = f"{report.nodeid} ({report.when})"
    for title, content in report.sections:
        _watch.check("test report", f"{where}, {title}", content)
    if report.longrepr is not None:
        _watch.check("failure text", where, report.longreprtext)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if _watch is not None and call.excinfo is not None:
        _watch.check("exception", f"{item.nodeid} ({call.when})", f"{call.excinfo.exconly()} {call.excinfo.value!r}")
    return report


def _screen_texts(app: object) -> Iterator[tuple[str, str]]:
    """(where, text) of everything an app shows: each screen as drawn, toasts, titles."""
    yield "title", f"{getattr(app, 'title', '')} {getattr(app, 'sub_title', '')}"
    for notification in list(getattr(app, "_notifications", [])):
        yield "toast", f"{notification.title} {notification.message}"
    for screen in list(getattr(app, "screen_stack", [])):
        try:
            strips = screen._compositor.render_strips()
        except Exception:  # a screen never laid out draws nothing
            continue
        yield type(screen).__name__, "\n".join(strip.text for strip in strips)


@pytest.fixture(autouse=True, scope="session")
def _canary_watch() -> Iterator[None]:
    """Watches what apps show (every ``run_test``) and every typed backend error, all session."""
    from textual.app import App

    from lobby.core.errors import BackendError

    assert _watch is not None
    run_test = App.run_test
    error_init = BackendError.__init__

    @asynccontextmanager
    async def watched_run_test(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        async with run_test(self, *args, **kwargs) as pilot:
            try:
                yield pilot
            finally:
                for where, text in _screen_texts(self):
                    _watch.check("screen", f"{type(self).__name__} {where}", text)

    def watched_error_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        error_init(self, *args, **kwargs)
        _watch.check("backend error", type(self).__name__, f"{self.message} {self.details or ''} {self!r}")

    App.run_test = watched_run_test  # type: ignore[method-assign]
    BackendError.__init__ = watched_error_init  # type: ignore[method-assign]
    try:
        yield
    finally:
        App.run_test = run_test  # type: ignore[method-assign]
        BackendError.__init__ = error_init  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _watch is None:
        return
    _watch.save()
    if _is_worker(session.config):
        return
    # The controller (or the only process): every process's findings, and the pictures on disk.
    for picture in sorted([*TESTS.rglob("__snapshots__/**/*.svg"), *Path.cwd().glob("snapshot_report.html")]):
        _watch.check("snapshot", str(picture.relative_to(Path.cwd()) if picture.is_relative_to(Path.cwd()) else picture), picture.read_text("utf-8", errors="replace"))
    _watch.save()
    counts: dict[str, int] = {}
    hits: list[str] = []
    for found in sorted(_watch.path.parent.glob("canaries-*.json")):
        data = json.loads(found.read_text("utf-8"))
        hits += data["hits"]
        for kind, n in data["counts"].items():
            counts[kind] = counts.get(kind, 0) + n
    shutil.rmtree(_watch.path.parent, ignore_errors=True)
    session.config._lobby_canaries = (counts, hits)  # type: ignore[attr-defined]
    if hits:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    found = getattr(config, "_lobby_canaries", None)
    if found is None:
        return
    counts, hits = found
    searched = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(counts.items()))
    if hits:
        terminalreporter.section("secrets seen", sep="=", red=True, bold=True)
        for hit in sorted(set(hits)):
            terminalreporter.write_line(f"LEAK: {hit}", red=True)
        terminalreporter.write_line(f"canaries searched for in {searched}")
    else:
        terminalreporter.write_line(f"secrets: no canary in {searched}")
