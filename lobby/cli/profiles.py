"""The composition root: a settings profile becomes the backends and moderation feeds it describes.

Every entry point builds them here: the console (`lobby`), `lobby demo`, `lobby tickets` /
`lobby accept`, the TeamBattles sub-commands, and `lobby moderate` / `lobby web`. The rules that
turn a profile into endpoints live here too:

- TeamBattles: the profile's ``base_url``; for an emulator profile, the running emulator's
  announced URL + ``/api/v1``, with changes from its event stream. The key comes from
  TEAMBATTLES_API_KEY, the OS keyring or the profile's key file.
- FlexMatch: the profile's ``endpoint_url``; else, for an emulator profile, the running emulator;
  else ``https://gamelift.<region>.amazonaws.com``. Region: the profile's, else the AWS chain's
  default (emulator profiles fall back to us-east-1). Credentials: the AWS chain; an emulator
  profile without any signs with placeholder keys, and an emulator profile signs only once the
  emulator asks for signatures (``--verify-sigv4``), so botocore is not loaded otherwise. Event stream: the profile's ``feed_url``;
  else, for an emulator profile, the emulator itself; else none, and changes come from polling.
- The moderator's feed: for an emulator profile, the emulator's event stream; else the
  profile's SQS queue of FlexMatch notifications; else none. `lobby moderate` builds its feeds
  here too: the emulator's, recordings, and SQS queues and SNS topics of any regions, several
  merged into one (:func:`merged_feed`).

Start-up (tests/bench/test_bench_startup.py measures it): the console imports this module before
its first paint, so no adapter is imported at module level. The console's streams import each
adapter (httpx, pydantic wire models, botocore: most of lobby's import time) in a worker thread,
TeamBattles first (the lighter), and hand each backend over as soon as it is built; FlexMatch is
built, and its event stream read up to now, while TeamBattles lists its first offers (mostly a
wait for the service). A backend
that cannot be built (no key, no running emulator) is handed over as a :class:`FailedBackend`
that says why, so the other one stays usable.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
from contextlib import aclosing
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from lobby import paths
from lobby.core.backend import NO_CAPABILITIES, Capabilities
from lobby.core.errors import BackendError, NotConfigured

if TYPE_CHECKING:
    import httpx

    from lobby.config_schema import Profile, Settings
    from lobby.core.clock import Clock
    from lobby.core.offers import Change, Offer
    from lobby.flexmatch.backend import FlexMatchBackend
    from lobby.moderation.sources import ModerationSource
    from lobby.teambattles.backend import TeamBattlesBackend
    from lobby.teambattles.keys import ApiKey
    from lobby.teambattles.requests import RequestStore
    from lobby.tui.switching import Connected, Served

T = TypeVar("T")

#: The path of the TeamBattles API under a service's (or the emulator's) base URL.
TEAMBATTLES_API = "/api/v1"
#: The region of an emulator profile that names none and finds none in the AWS chain.
EMULATOR_REGION = "us-east-1"
#: What each adapter's builder imports: the console imports them in a worker thread first.
TEAMBATTLES_MODULES = ("lobby.teambattles.backend", "lobby.teambattles.keys", "lobby.teambattles.requests")
FLEXMATCH_MODULES = ("lobby.flexmatch.backend", "lobby.flexmatch.signing")
#: What the first request of an adapter's client imports (httpx's transport is httpcore's, on
#: anyio's asyncio backend): imported with the TeamBattles adapter, in its worker thread, rather
#: than on the event loop while FlexMatch's adapter is imported beside it.
FIRST_REQUEST_MODULES = ("httpcore", "anyio._backends._asyncio")

NO_EMULATOR_FOR_TEAMBATTLES = (
    "No lobby emulator is running; start one with `lobby demo` or `lobby emulator`, or choose a live profile."
)
NO_EMULATOR_FOR_FLEXMATCH = "No lobby emulator is running; start `lobby demo` or `lobby emulator` first."
NO_EMULATOR_TO_WATCH = "No emulator is running: start `lobby demo` or `lobby emulator`."


class FailedBackend:
    """Stands for a backend that could not be built; every call says why."""

    def __init__(self, name: str, error: BackendError) -> None:
        self.name = name
        self.error = error
        self.capabilities: Capabilities = NO_CAPABILITIES

    async def list_offers(self) -> list[Offer]:
        raise self.error

    async def changes(self) -> AsyncIterator[Change]:
        raise self.error
        yield  # pragma: no cover - makes this an async generator

    async def accept(self, offer_id: str, answer: object) -> str:
        raise self.error

    async def reject(self, offer_id: str, answer: object) -> str:
        raise self.error

    async def aclose(self) -> None:
        return None


# --- profiles --------------------------------------------------------------------------------------


def chosen(settings: Settings, name: str | None = None) -> tuple[str, Profile]:
    """(name, profile) of profile ``name`` of ``settings`` (default: the settings' own); an unknown
    name raises ValueError, a plain sentence."""
    picked = settings.model_copy(update={"profile": name}) if name else settings
    return picked.active()


def running_emulator(given: str | None, refusal: str) -> str:
    """``given``, else the base URL the running emulator announced; NotConfigured(``refusal``)
    when none runs."""
    url = given or paths.read_emulator_announcement()
    if not url:
        raise NotConfigured(refusal)
    return url


# --- TeamBattles ---------------------------------------------------------------------------------


def emulator_location(settings: Settings, name: str | None) -> str | None:
    """Where the emulator of profile ``name`` runs now (its announced URL); None for a profile
    that is not an emulator's, or when none runs. The console reconnects when it changes."""
    try:
        _, profile = chosen(settings, name)
    except ValueError:
        return None
    return paths.read_emulator_announcement() if profile.kind == "emulator" else None


def teambattles_endpoints(profile: Profile) -> tuple[str, str | None]:
    """(API base URL, event stream base URL or None) of ``profile``'s TeamBattles."""
    if profile.kind != "emulator":
        return profile.teambattles.base_url.rstrip("/"), None
    root = running_emulator(None, NO_EMULATOR_FOR_TEAMBATTLES).rstrip("/")
    return root + TEAMBATTLES_API, root


def _teambattles(
    api: str,
    key: ApiKey,
    *,
    records: str,
    user: str | None,
    feed_url: str | None,
    transport: httpx.AsyncBaseTransport | None = None,
    requests_path: Path | None = None,
) -> TeamBattlesBackend:
    from lobby.net.transports import shared_transport
    from lobby.teambattles.backend import TeamBattlesBackend
    from lobby.teambattles.client import TeamBattlesClient
    from lobby.teambattles.requests import RequestStore

    client = TeamBattlesClient(api, key, transport=transport if transport is not None else shared_transport())
    return TeamBattlesBackend(
        client, requests=RequestStore(records, requests_path), user=user, feed_url=feed_url
    )


def teambattles_backend(
    name: str,
    profile: Profile,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    requests_path: Path | None = None,
) -> TeamBattlesBackend:
    """The TeamBattles backend of profile ``name``. Blocking (imports, the keyring, files): the
    console calls it in a worker thread. Raises NotConfigured (a plain sentence) when there is
    no key or no running emulator."""
    from lobby.teambattles.keys import load_api_key

    tb = profile.teambattles
    api, feed = teambattles_endpoints(profile)
    key = load_api_key(name, tb.key_file)
    records = records_of(name, profile, feed)
    return _teambattles(
        api, key, records=records, user=tb.user, feed_url=feed, transport=transport, requests_path=requests_path
    )


def records_of(name: str, profile: Profile, feed: str | None = None) -> str:
    """Whose records ("my requests") profile ``name`` reads: an emulator profile's are those
    of the emulator running now (``feed``, else the announced one)."""
    if profile.kind != "emulator":
        return name
    root = feed or paths.read_emulator_announcement()
    return name if root is None else emulator_records(root)


def stored_requests(settings: Settings | None = None) -> RequestStore:
    """The stored requests of the settings' profile, read without the service (no key)."""
    from lobby.config_schema import Settings
    from lobby.teambattles.requests import RequestStore

    settings = settings or Settings.load()
    try:
        name, profile = chosen(settings)
    except ValueError as exc:
        raise NotConfigured(str(exc)) from None
    return RequestStore(records_of(name, profile))


def emulator_records(root: str) -> str:
    """The records ("my requests") of the emulator running at ``root``: they belong to that
    emulator instance, so each `lobby demo` starts fresh, and another terminal on the
    emulator profile sees the same ones."""
    return f"emulator@{root.rstrip('/')}"


def open_teambattles(settings: Settings | None = None) -> TeamBattlesBackend:
    """The TeamBattles backend of the settings' profile (the sub-commands'): an unknown profile,
    no key or no running emulator raise NotConfigured."""
    from lobby.config_schema import Settings

    settings = settings or Settings.load()  # invalid settings: `lobby` says where, in one line
    try:
        name, profile = chosen(settings)
    except ValueError as exc:
        raise NotConfigured(str(exc)) from None
    return teambattles_backend(name, profile)


def demo_teambattles(url: str, *, key: str, user: str) -> TeamBattlesBackend:
    """The TeamBattles backend of `lobby demo`: the emulator at ``url``, as the scenario's captain."""
    from lobby.teambattles.keys import check_key

    api_key = check_key(key, "the demo scenario")
    return _teambattles(url + TEAMBATTLES_API, api_key, records=emulator_records(url), user=user, feed_url=url)


# --- FlexMatch -----------------------------------------------------------------------------------


async def flexmatch_backend(
    profile: Profile,
    *,
    emulator_url: str | None = None,
    players: Iterable[str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> FlexMatchBackend:
    """The FlexMatch backend of ``profile`` (``players`` overrides the profile's players; an
    emulator profile talks to ``emulator_url``, else to the running emulator). Reads AWS
    configuration in a worker thread."""
    from lobby.flexmatch.backend import FlexMatchBackend
    from lobby.flexmatch.client import FlexMatchClient, regional_endpoint
    from lobby.flexmatch.signing import EMULATOR_CREDENTIALS, CredentialSource

    gamelift = profile.gamelift
    emulated = profile.kind == "emulator"
    source = CredentialSource(gamelift.aws_profile, fallback=EMULATOR_CREDENTIALS if emulated else None)

    endpoint = gamelift.endpoint_url
    if endpoint is None and emulated:
        endpoint = running_emulator(emulator_url, NO_EMULATOR_FOR_FLEXMATCH)

    region = gamelift.region
    if region is None and emulated and gamelift.aws_profile is None:
        # What the AWS chain would read first, without loading botocore (see signing.py).
        region = os.environ.get("AWS_DEFAULT_REGION") or None
    if region is None:
        region = (await source.context()).region or (EMULATOR_REGION if emulated else None)
        if region is None:
            raise NotConfigured(
                "No AWS region is set; set gamelift.region in the lobby profile or AWS_DEFAULT_REGION."
            )
    if endpoint is None:
        endpoint = regional_endpoint(region)

    feed_url = gamelift.feed_url or (endpoint if emulated else None)
    client = FlexMatchClient(
        endpoint, region=region, credentials=source, transport=transport, sleep=sleep, sign_when_asked=emulated
    )
    return FlexMatchBackend(
        client,
        players=gamelift.players if players is None else players,
        feed_url=feed_url,
        poll_interval=gamelift.poll_interval,
        clock=clock,
        sleep=sleep,
    )


# --- the console's streams -----------------------------------------------------------------------


async def _in_thread(work: Callable[[], T]) -> T:
    """Run blocking start-up work (imports, files, TLS set-up) off the event loop."""
    return await asyncio.to_thread(work)


def _import(modules: Iterable[str]) -> None:
    for module in modules:
        importlib.import_module(module)


def _import_ahead(modules: Iterable[str]) -> None:
    """Import ``modules`` now, if they exist: a third party's internals, imported early only to
    spare the event loop; one that moved is imported when used, as usual."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            pass


def _with_records(backend: TeamBattlesBackend) -> TeamBattlesBackend:
    """``backend`` with its stored requests ("my requests") read, in this worker thread: the
    first listing then starts no thread of its own to read them."""
    backend.requests.read_stored()
    return backend


class ServiceTime:
    """The service's time as a backend last measured it, read afresh on each call (the skew
    is measured again on each reconnect and each answer)."""

    def __init__(self, read: Callable[[], Clock]) -> None:
        self._read = read

    def now(self) -> datetime:
        return self._read().now()

    def timestamp(self) -> float:
        return self._read().timestamp()


def with_service_time(backend: TeamBattlesBackend | FlexMatchBackend) -> Served:
    """``backend`` with the service's clock it measures: the console's countdowns read it."""
    from lobby.tui.switching import Served

    return Served(backend, ServiceTime(lambda: backend.clock))


async def _built(name: str, build: Callable[[], Connected]) -> Connected:
    """The backend ``build`` makes in a worker thread, or a FailedBackend saying why not."""
    try:
        return await _in_thread(build)
    except BackendError as exc:
        return FailedBackend(name, exc)


async def _flexmatch(
    profile: Profile, *, emulator_url: str | None, players: Iterable[str] | None = None
) -> Connected:
    """The FlexMatch backend, its adapter imported in a worker thread, ready for its first
    listing (:meth:`~lobby.flexmatch.backend.FlexMatchBackend.prepare`)."""
    await _in_thread(lambda: _import(FLEXMATCH_MODULES))
    # httpx's own transport, which TeamBattles has loaded already (with its TLS context): these
    # few calls gain nothing from the faster aiohttp transport the adapter picks by default,
    # whose import alone costs more start-up time than the whole TeamBattles adapter.
    from lobby.net.transports import shared_transport

    try:
        backend = await flexmatch_backend(
            profile, emulator_url=emulator_url, players=players, transport=await _in_thread(shared_transport)
        )
    except BackendError as exc:
        return FailedBackend("flexmatch", exc)
    await backend.prepare()
    return with_service_time(backend)


async def _one_then_next(
    teambattles: Callable[[], Connected], flexmatch: Callable[[], Awaitable[Connected]]
) -> AsyncGenerator[Connected, None]:
    """TeamBattles, built in a worker thread, then FlexMatch. FlexMatch is built (its adapter
    imported, in a thread) and its event stream read up to now while TeamBattles lists its
    offers, mostly a wait for the service, so it is ready when asked for; closed before that,
    it is closed too."""
    first = await _built("teambattles", teambattles)
    following = asyncio.ensure_future(flexmatch())
    handed = False
    try:
        yield first
        second = await following
        handed = True
        yield second
    finally:
        if not handed:
            following.cancel()
            await asyncio.wait([following])
            if not following.cancelled() and following.exception() is None:
                from lobby.tui.switching import served

                await served(following.result()).backend.aclose()


async def stream_profile(
    settings: Settings,
    name: str,
    *,
    emulator_url: str | None = None,
    teambattles_transport: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
) -> AsyncIterator[Connected]:
    """The backends of profile ``name``, each built or failed, each as soon as it is ready:
    TeamBattles, then FlexMatch. An unknown profile raises ValueError before any is built.
    ``teambattles_transport`` wraps TeamBattles' transport (the early listing records its
    reads, and the console replays them: :mod:`lobby.cli.early`); never with a proxy, which
    only httpx's own transports honour."""
    profile_name, profile = chosen(settings, name)

    def teambattles() -> Connected:
        _import(TEAMBATTLES_MODULES)
        _import_ahead(FIRST_REQUEST_MODULES)
        from lobby.net.transports import shared_transport

        transport = shared_transport()
        if transport is not None and teambattles_transport is not None:
            transport = teambattles_transport(transport)
        built = teambattles_backend(profile_name, profile, transport=transport)
        return with_service_time(_with_records(built))

    def flexmatch() -> Awaitable[Connected]:
        return _flexmatch(profile, emulator_url=emulator_url)

    async with aclosing(_one_then_next(teambattles, flexmatch)) as stream:
        async for connected in stream:
            yield connected


async def stream_demo(url: str, *, players: Iterable[str], key: str, user: str) -> AsyncIterator[Connected]:
    """The backends of `lobby demo`, on the emulator at ``url``, as the scenario's captain."""
    from lobby.config_schema import Profile

    chosen_players = list(players)

    def teambattles() -> Connected:
        _import(TEAMBATTLES_MODULES)
        _import_ahead(FIRST_REQUEST_MODULES)
        return with_service_time(_with_records(demo_teambattles(url, key=key, user=user)))

    def flexmatch() -> Awaitable[Connected]:
        return _flexmatch(Profile(kind="emulator"), emulator_url=url, players=chosen_players)

    async with aclosing(_one_then_next(teambattles, flexmatch)) as stream:
        async for connected in stream:
            yield connected


# --- moderation feeds ----------------------------------------------------------------------------


def emulator_feed(url: str) -> ModerationSource:
    """The emulator's event stream at ``url``: every ticket and match, from the first event."""
    from lobby.moderation.sources import EmulatorSource

    return EmulatorSource(url)


def sqs_feed(
    queue: str, *, region: str | None = None, endpoint_url: str | None = None, aws_profile: str | None = None
) -> ModerationSource:
    """An SQS queue receiving the FlexMatch notifications (real AWS, or an SQS-compatible
    endpoint), given by its URL or its ARN; ``region`` for a queue whose URL names none."""
    from lobby.moderation.sqs import SqsSource

    return SqsSource(queue, region=region, endpoint_url=endpoint_url, aws_profile=aws_profile)


def topic_feed(
    topic_arn: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    aws_profile: str | None = None,
    raw_delivery: bool = False,
) -> ModerationSource:
    """The FlexMatch notification topic, read through a queue of this console's own (created,
    subscribed, and removed on exit)."""
    from lobby.moderation.sns import TopicSource

    return TopicSource(
        topic_arn, region=region, endpoint_url=endpoint_url, aws_profile=aws_profile, raw_delivery=raw_delivery
    )


def replay_feed(path: Path) -> ModerationSource:
    """Recorded events, one JSON object per line of ``path``; ValueError (a plain sentence) when
    the file cannot be read or a line is not JSON."""
    from lobby.moderation.sources import ReplaySource

    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    items = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except ValueError:
                raise ValueError(f"{path}:{number} is not a JSON object") from None
    return ReplaySource(items, description=f"recorded events from {path.name}")


def merged_feed(feeds: Sequence[ModerationSource]) -> ModerationSource:
    """One feed of several (each event applied once, each feed's region on its rows); a
    single feed as it is."""
    if len(feeds) == 1:
        return feeds[0]
    from lobby.moderation.merge import MergedSource

    return MergedSource(feeds)


def aws_feed(
    queues: Iterable[str] = (),
    topics: Iterable[str] = (),
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    aws_profile: str | None = None,
    raw_delivery: bool = False,
) -> ModerationSource:
    """FlexMatch notifications from SQS queues (URLs or ARNs) and SNS topics, of any regions,
    as one feed. ``region`` is for a queue URL that names none."""
    feeds = [sqs_feed(q, region=region, endpoint_url=endpoint_url, aws_profile=aws_profile) for q in queues]
    feeds += [
        topic_feed(t, region=region, endpoint_url=endpoint_url, aws_profile=aws_profile, raw_delivery=raw_delivery)
        for t in topics
    ]
    if not feeds:
        raise ValueError("no queue or topic was given")
    return merged_feed(feeds)


def moderation_source(
    settings: Settings, name: str | None, *, emulator_url: str | None = None
) -> ModerationSource | None:
    """What the moderator's view watches on profile ``name``: the emulator's event stream, or the
    profile's SQS queue of FlexMatch notifications; None when the profile has neither. No
    running emulator for an emulator profile raises ValueError."""
    _, profile = chosen(settings, name)
    if profile.kind == "emulator":
        try:
            return emulator_feed(running_emulator(emulator_url, NO_EMULATOR_TO_WATCH))
        except NotConfigured as exc:
            raise ValueError(exc.message) from None
    gamelift = profile.gamelift
    if gamelift.notifications_queue:
        return sqs_feed(gamelift.notifications_queue, region=gamelift.region, aws_profile=gamelift.aws_profile)
    return None
