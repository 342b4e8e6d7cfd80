"""The lobby Textual app: the captain's console.

The app is given its backends (anything implementing :class:`OfferBackend`) and a clock, so the
same code runs against GameLift and TeamBattles, against the embedded emulator, and in tests
with a frozen clock. It owns the state store and tells the screens what changed through
signals; its parts each do one job:

- :mod:`lobby.tui.following`: the connected backends, followed in workers, and what their
  capabilities push (feed state, my requests);
- :mod:`lobby.tui.switching`: connecting a profile's backends, at start-up and from the palette;
- :mod:`lobby.tui.probe`: the start-up bench's first-paint probe;
- :mod:`lobby.tui.screens.answer`: the answer screens' worker.

Start-up paints first: the home screen shows the last-known offers of the profile (kept in the
state directory, see :class:`lobby.tui.store.LastKnown`) at once, in the theme and with the keys
of the settings' first look (:func:`lobby.config.first_look`, read without the schema) when the
settings are validated after the first frame (``load_settings``), each marked as refreshing
until its backend confirms or drops it, else "Connecting…"; the ``connect`` callable may hand
over backends one by one as each is ready, so one backend's offers show while another is still
being built. Screens other than home are imported when first opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import Notify
from textual.screen import Screen
from textual.signal import Signal

from lobby.core.backend import OfferBackend
from lobby.core.clock import Clock, SystemClock
from lobby.core.errors import BackendError
from lobby.core.offers import OfferKind
from lobby import paths
from lobby.paths import styles_dir
from lobby.tui.alerts import Alert, Alerts
from lobby.tui.drafts import DRAFTS_FILE, DraftBook
from lobby.tui import timefmt
from lobby.tui.early import EarlyListing
from lobby.tui.following import Following
from lobby.tui.messages import BackendStatus, Health, backend_label
from lobby.tui.probe import FirstPaintProbe
from lobby.tui.safe import brief, clean
from lobby.tui.services import ConsoleApp
from lobby.tui.store import Applied, Entry, Filters, Key, LastKnown, OfferStore
from lobby.tui.switching import Connect, Connected, ProfileSwitch, served
from lobby.tui.theme import LOBBY_THEME

if TYPE_CHECKING:
    from lobby.config import FirstLook
    from lobby.config_schema import Settings
    from lobby.moderation.sources import ModerationSource

#: How often countdowns repaint, in seconds. They always show deadline - clock.now().
TICK_SECONDS = 0.5
#: How often the console checks where its service runs (a restarted emulator), in seconds.
WHERE_SECONDS = 2.0
#: Start-up is over once the first profile is connected (see ``on_started``), or after this many
#: seconds at most.
STARTED_AT_MOST = 10.0
#: How often the last-known offers are written when they changed, in seconds (and on leaving).
KEEP_LAST_KNOWN_SECONDS = 5.0
#: How long validating the settings (and so connecting) waits for the early listing, at most,
#: in seconds: a slow service's listing is not waited for by both processes at once.
EARLY_WAIT = 1.5


#: The theme last chosen in the console, under the state directory.
THEME_FILE = "theme"


def kept_theme() -> str | None:
    try:
        return (paths.state_dir() / THEME_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def keep_theme(name: str) -> None:
    try:
        where = paths.state_dir()
        where.mkdir(parents=True, exist_ok=True)
        (where / THEME_FILE).write_text(name, encoding="utf-8")
    except OSError:
        pass  # not kept: the console still works


def _lobby_commands() -> type:
    from lobby.tui.commands import LobbyCommands

    return LobbyCommands


class LobbyApp(ConsoleApp):
    """Answer every offer before its deadline."""

    TITLE = "lobby"
    CSS_PATH = str(styles_dir() / "lobby.tcss")
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {_lobby_commands}

    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="lobby.help"),
        Binding("ctrl+r", "refresh", "Reload", show=False, id="lobby.refresh"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="lobby.quit"),
        Binding("M", "moderate", "Moderate", id="lobby.moderate"),
        # Focus moves the moment Tab is read, not once the field being left has handled it, so
        # letters typed right after Tab reach the next field instead of the one left behind.
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    def __init__(
        self,
        backends: Iterable[Connected] = (),
        *,
        clock: Clock | None = None,
        settings: Settings | None = None,
        profile: str | None = None,
        profiles: Iterable[str] = (),
        connect: Connect | None = None,
        keymap: Mapping[str, str] | None = None,
        watch: bool = True,
        still: bool = False,
        moderation: Callable[[str | None], ModerationSource | None] | None = None,
        on_started: Callable[[], object] | None = None,
        drafts: Path | None = None,
        where: Callable[[str | None], str | None] | None = None,
        last_known: Path | None = None,
        first_look: FirstLook | None = None,
        load_settings: Callable[[], Settings] | None = None,
        early: EarlyListing | None = None,
    ) -> None:
        """``profiles`` and ``connect`` enable switching backend profiles from the palette;
        ``watch=False`` loads the listings but does not follow changes; ``still`` turns off
        animation and blinking cursors (for pictures that must not flake); ``moderation``, given
        the current profile, builds the event source of the moderator's view (None: that
        profile has no feed to watch); ``on_started`` is called once, after the first frame that
        follows connecting the first profile (or after STARTED_AT_MOST seconds at most);
        ``last_known``, a file where the offers last known are kept: shown at start-up, marked
        as refreshing until their backend confirms them (None: nothing is kept);
        ``load_settings`` (instead of ``settings``): the settings are validated by it, in a
        thread, right after the home's first frame (its footer included), that frame using
        ``first_look``'s profile, theme and keymap; connecting waits for them, and what they
        change is applied when they arrive (:meth:`settings_arrived`); when it raises, the app
        exits, the exception in :attr:`settings_error`; ``early``, the early listing of the
        profile being connected (:mod:`lobby.tui.early`): its offers are shown live as they
        arrive, until each backend lists them itself."""
        super().__init__(clock=clock, still=still)
        #: Given the profile, where its service runs now (an emulator's announced URL); when
        #: that changes (a restarted or late emulator), the profile is connected again.
        self._where = where
        self._where_seen: str | None = None
        self._settings_checked = False
        #: The validated settings (None until ``load_settings`` has given them, or none at all).
        self.settings = settings
        self._load_settings = load_settings
        self._validating = False
        #: Why ``load_settings`` failed (the app then exits): for its caller to say.
        self.settings_error: Exception | None = None
        #: Set once the settings are validated (at once when they were given).
        self._settings_ready = asyncio.Event()
        if load_settings is None:
            self._settings_ready.set()
        look = settings if settings is not None else first_look
        #: New offers, decisions and reminders: toast, bell, desktop notification.
        self.alerts = Alerts(
            # Read at each alert (tests listen in by replacing the app's methods).
            notify=lambda alert: self._toast(alert),
            bell=lambda: self.bell(),
            write=lambda sequence: self.write_to_terminal(sequence),
            focused=lambda: self.app_focus,
            settings=settings,
            web=lambda: self.is_web,
            page=lambda meta: self.write_to_page(meta),
        )
        self.store = OfferStore(self.clock)
        #: What was typed in TeamBattles forms, kept per offer until sent or discarded.
        self.drafts = DraftBook(drafts if drafts is not None else paths.state_dir() / DRAFTS_FILE)
        self.following = Following(self)
        for connected in backends:
            self.following.keep(served(connected))
        self.profile = profile if profile is not None else (look.profile if look is not None else None)
        self.profiles = list(profiles)
        self._switch = ProfileSwitch(self, connect) if connect is not None else None
        self._moderation = moderation
        self._on_started = on_started
        self._start_up_over = False
        #: The profile whose backends are being connected (the home says so meanwhile).
        self.connecting: str | None = None
        if not self.backends and connect is not None and self.profile:
            self.connecting = self.profile  # connected once the first frame is on screen
        self._last_known = None if last_known is None else LastKnown(last_known)
        self._last_known_changed = False
        #: Whose last-known offers are shown (see _identity).
        self._shown_identity: str | None = None
        if self._last_known is not None and self.connecting is not None:
            self._shown_identity = self._identity()
            self.store.remember(self._last_known.load(self._shown_identity))
        #: Whether backends' changes are followed after their first listing.
        self.watching = watch
        self._keymap_given = keymap is not None
        self._initial_keymap = dict(keymap or (look.keymap if look is not None else {}))
        self.filters = Filters()
        #: Fired with the list of Applied updates whenever the store changes.
        self.offers_changed: Signal[list[Applied]] = Signal(self, "offers-changed")
        #: Fired when a backend's health changes.
        self.status_changed: Signal[BackendStatus] = Signal(self, "status-changed")
        self.register_theme(LOBBY_THEME)
        self.theme = self._wanted_theme(look.theme if look is not None else None)
        # The stylesheet is first parsed when the app starts; parsed with the chosen theme's
        # variables, it needs none of the refresh the theme's watcher queued (a second parse
        # and a restyle of every widget, before the first frame): see refresh_css.
        self._start_css: dict[str, str] | None = self.get_css_variables()
        self.stylesheet.set_variables(self._start_css)
        if self.profile:
            self.sub_title = f"profile {clean(self.profile)}"
        self._probe = FirstPaintProbe(self)
        self._early = early
        #: Whether the early listing, once closed, had listed every backend.
        self._early_complete = False
        #: Set once the early listing is over and what it brought is on screen.
        self._early_shown = asyncio.Event()

    def _wanted_theme(self, setting: str | None) -> str:
        """The theme last chosen in the console, else the settings' (``setting``: None when
        there are no settings), else lobby's."""
        if setting is None:
            return LOBBY_THEME.name
        kept = kept_theme()
        wanted = kept if kept in self.available_themes else setting
        return wanted if wanted in self.available_themes else LOBBY_THEME.name

    @property
    def backends(self) -> list[OfferBackend]:
        """The connected backends, in the status line's order."""
        return self.following.backends

    @property
    def status(self) -> dict[str, BackendStatus]:
        """The health of each backend, by name."""
        return self.following.status

    @property
    def can_switch(self) -> bool:
        """Profiles can be switched (the app was given a way to connect one)."""
        return self._switch is not None

    def backend(self, name: str) -> OfferBackend | None:
        return self.following.backend(name)

    # --- life ----------------------------------------------------------------------------------

    def refresh_css(self, animate: bool = True) -> None:
        """Textual's, but the first one, queued by choosing the theme in ``__init__``, is
        skipped when the theme's variables are still those of the first parse."""
        start, self._start_css = self._start_css, None
        if start is not None and start == self.get_css_variables():
            for screen in self.screen_stack:
                screen._css_update_count = self._css_update_count  # what Textual's refresh records
            return
        super().refresh_css(animate)

    def get_default_screen(self) -> Screen[None]:
        from lobby.tui.screens.home import HomeScreen

        return HomeScreen()

    def on_mount(self) -> None:
        if self._early is not None:
            if self.connecting is not None and self.connecting == self._early.profile:
                asyncio.get_running_loop().add_reader(self._early.fileno(), self._early_arrived)
            else:
                self._close_early()
        if self._initial_keymap:
            self.set_keymap(self._initial_keymap)
        self.set_interval(TICK_SECONDS, self._tick, name="countdowns")
        if self._where is not None and self._switch is not None:
            self._where_seen = self._where(self.profile)
            self.set_interval(WHERE_SECONDS, self._follow_where, name="where the service runs")
        if self._on_started is not None:
            self.set_timer(STARTED_AT_MOST, self.started, name="start-up over")
        if self._last_known is not None:
            self.set_interval(KEEP_LAST_KNOWN_SECONDS, self._keep_last_known, name="keep the last-known offers")
        if self.connecting is not None:
            # The backends are built (their adapters imported, in a thread) right after the
            # first frame, the last-known offers already in it: that frame waits for nothing
            # (connecting waits for the validated settings, if they are not there yet).
            # The home screen was mounted before this (Textual mounts the default screen first).
            self.call_after_refresh(self.switch_profile, None, announce=False)
        else:
            self.call_after_refresh(self.started)
        self.following.follow_all()

    @work(group="settings")
    async def _validate_settings(self) -> None:
        """Validate the settings (in a thread: the loop keeps answering) and hand them over;
        when that fails, exit, the reason in :attr:`settings_error`."""
        assert self._load_settings is not None
        if self._early is not None:
            # The early listing first: the helper lists on the other core, and its offers are
            # on screen sooner when this process does not import the schema meanwhile.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._early_shown.wait(), EARLY_WAIT)
        try:
            settings = await asyncio.to_thread(self._load_settings)
        except Exception as exc:  # any reason: the caller of run() says it (lobby.cli.app)
            self.settings_error = exc
            self.exit(return_code=1)
            return
        self.settings_arrived(settings)

    def settings_arrived(self, settings: Settings) -> None:
        """The validated settings, after a first frame painted with their first look: what they
        say otherwise is applied (alerts, keymap, theme, the profile and its last-known offers,
        the profiles to switch to), and connecting may start."""
        self.settings = settings
        self.alerts.use(settings)
        if not self._keymap_given and settings.keymap != self._initial_keymap:
            self._initial_keymap = dict(settings.keymap)
            self.set_keymap(self._initial_keymap)
        theme = self._wanted_theme(settings.theme)
        if theme != self.theme:
            self.theme = theme
        if not self.profiles:
            self.profiles = settings.profile_names()
        if self.connecting is not None and settings.profile != self.connecting:
            # Not connected yet (that waits for these settings): the start-up connects this one.
            self.profile = self.connecting = settings.profile
            self.sub_title = f"profile {clean(self.profile)}"
            if self._early is not None or self._early_complete:  # another profile's listing
                self._close_early()
                self._early_complete = False
                self.publish(self.store.drop_refreshing(lambda entry: entry.confirmed), alert=False)
        if self._last_known is not None and self._shown_identity is not None:
            identity = self._identity()
            if identity != self._shown_identity:  # another profile's, or another emulator's
                self._shown_identity = identity
                gone = self.store.drop_refreshing()
                self.publish([*gone, *self.store.remember(self._last_known.load(identity))], alert=False)
        if self._where is not None and self._switch is not None:
            self._where_seen = self._where(self.profile)
        self._settings_ready.set()
        if self._start_up_over:  # it was over before they came (STARTED_AT_MOST)
            self._check_settings_once()

    def _early_arrived(self) -> None:
        """Show what the early listing brought: each backend's offers, live, unless the
        backend, connected meanwhile, has listed them itself."""
        early = self._early
        if early is None:
            return
        if early.profile != self.connecting:  # the validated settings chose another profile
            self._close_early()
            return
        applied: list[Applied] = []
        for listed in early.take():
            name = listed.backend
            if self.following.backend(name) is not None and not self._listing(name):
                continue  # the backend itself has listed its offers: they are newer
            applied += self.store.confirm(name, listed.offers, SystemClock(listed.skew))
        if early.finished:
            self._close_early()
        if applied:
            self.publish(applied, alert=False)

    def _listing(self, name: str) -> bool:
        return self.following.health(name, Health.LOADING) is Health.LOADING

    def _close_early(self) -> None:
        early, self._early = self._early, None
        if early is None:
            return
        try:
            asyncio.get_running_loop().remove_reader(early.fileno())
        except (RuntimeError, ValueError, OSError):  # no loop, or the reader was never added
            pass
        early.close()
        self._early_complete = early.complete and early.profile == self.connecting
        self.call_after_refresh(self._early_shown.set)

    def backend_failed(self, name: str) -> None:
        """``name`` could not list its offers: those the early listing showed for it are
        last known again (marked), no longer live."""
        self.publish(self.store.unconfirm(name), alert=False)

    def live_data_shown(self) -> bool:
        """Every backend's offers on screen are live: each backend has listed them, or the
        early listing has, for every backend, and confirmed or dropped each last-known one."""
        return (self.connecting is None and not self.following.loading()) or self._early_live()

    def _early_live(self) -> bool:
        """The early listing has listed every backend, and no offer on screen is unconfirmed."""
        early = self._early
        complete = early.complete if early is not None else self._early_complete
        return complete and not self.store.unconfirmed

    def started(self) -> None:
        """Start-up is over: ``on_started`` is called, once; then what the settings name but
        the console does not know is reported, and a theme chosen from now on is kept."""
        callback, self._on_started = self._on_started, None
        self._start_up_over = True
        self._close_early()  # every backend has listed by now (or given up): it adds nothing
        if callback is not None:
            callback()
        self._check_settings_once()

    def _check_settings_once(self) -> None:
        if self.settings is not None and not self._settings_checked:
            self._settings_checked = True
            self.call_after_refresh(self._check_settings)

    def _check_settings(self) -> None:
        from lobby.tui.settings_check import problems

        assert self.settings is not None
        if not self.is_running:
            return  # leaving already (the start-up bench quits at its first live paint)
        for sentence in problems(self.settings, self.available_themes):
            self.notify(sentence, title="Settings", severity="warning", markup=False, timeout=12)
        self.theme_changed_signal.subscribe(self, lambda theme: keep_theme(theme.name))

    async def on_unmount(self) -> None:
        self._close_early()
        self._keep_last_known()
        await self.following.close_all()

    def _identity(self) -> str:
        """Whose the last-known offers are: the profile, and where its service runs (a
        restarted emulator's records are not the ones this console saw)."""
        where = self._where(self.profile) if self._where is not None else None
        return LastKnown.identity(self.profile, where)

    def _keep_last_known(self) -> None:
        """Write the offers known now, when they changed and are live: listed by every backend
        of a profile connected, or by the early listing of the one being connected."""
        if self._last_known is None or not self._last_known_changed:
            return
        settled = self.connecting is None and self.backends and not self.following.loading()
        if not settled and not self._early_live():
            return  # nothing live is known yet: what was kept stays
        self._last_known_changed = False
        self._last_known.save(self._identity(), self.store.last_known())

    def _follow_where(self) -> None:
        """Connect the profile again when its service moved (restarted on another port) or
        appeared (started after the console)."""
        if self._where is None or self.connecting is not None:
            return
        now = self._where(self.profile)
        if now == self._where_seen:
            return
        self._where_seen = now
        if now is not None and self.profile:
            self.notify(f"The service is now at {clean(now)}: reconnecting.", markup=False)
            self.switch_profile(self.profile, announce=False)

    def _tick(self) -> None:
        self.following.tick()
        self.ticked.publish(None)
        self.alerts.remind(self.store.awaiting())

    def home_shown(self, rows: int) -> None:
        """The home screen now shows ``rows`` offers (see :mod:`lobby.tui.probe`); the first
        time, the settings are validated once that is on screen."""
        self._probe.home_shown(rows)
        if self._load_settings is not None and not self._validating:
            self._validating = True
            self.call_after_refresh(self._validate_settings)

    # --- the store -----------------------------------------------------------------------------

    def publish(self, applied: list[Applied], *, alert: bool) -> None:
        """Tell the screens what changed; with ``alert``, announce each offer that now awaits
        an answer."""
        self._last_known_changed = True
        if alert:
            for item in applied:
                entry = self.store.get(item.key)
                if entry is None:
                    continue
                if item.arrived:
                    self._alert(entry)
                elif item.decided:
                    self._alert_decision(entry)
        self.offers_changed.publish(applied)

    def _alert(self, entry: Entry) -> None:
        offer = entry.offer
        left = timefmt.countdown(offer.time_left(entry.clock))
        if offer.kind is OfferKind.FLEXMATCH_TICKET:
            who = brief(", ".join(offer.players)) or "your ticket"
            text = f"A match was found for {who}: {brief(offer.title)}. {left} left to answer."
            title = "Match found"
        else:
            text = f"{brief(offer.title)}: {left} left to answer."
            title = "Challenge received"
        self.alerts.announce(Alert(title, text))

    def _alert_decision(self, entry: Entry) -> None:
        """A decision on a request I sent: announced like a new offer."""
        request = entry.request
        if request is None:
            return
        words = request.status.lower()
        text = f"{brief(entry.offer.title)}: your request was {words}."
        if request.note:
            text += f" {brief(request.note)}"
        self.alerts.announce(Alert(f"Request {words}", text))

    def on_notify(self, event: Notify) -> None:
        """On an answer screen one toast at a time, the newest: more would reach its actions
        and status line at 80x24 (see the stylesheet)."""
        from lobby.tui.screens.answer import AnswerScreen

        stack = self.screen_stack
        under = stack[-2] if self.screen.is_modal and len(stack) > 1 else self.screen
        if not isinstance(under, AnswerScreen):
            return
        # Textual keeps the toasts in App._notifications and offers no public way to drop one.
        older = [n for n in self._notifications if n is not event.notification]
        for notification in older:
            self._unnotify(notification, refresh=False)
        if older:
            self._refresh_notifications()

    def _toast(self, alert: Alert) -> None:
        self.notify(alert.text, title=alert.title, severity="warning", markup=False, timeout=8)

    def write_to_terminal(self, sequence: str) -> None:
        """Hand ``sequence`` (an escape sequence built by the console, never network text) to
        the terminal, through the driver as the bell is."""
        driver = self._driver  # Textual offers no public way to the driver; App.bell uses it too
        if not self.is_headless and driver is not None:
            driver.write(sequence)

    def write_to_page(self, meta: dict[str, object]) -> None:
        """Hand ``meta`` to the browser's page of `lobby web --captain`, as a meta packet of
        Textual's web driver (its server passes it on: :mod:`lobby.cli.web`)."""
        from textual.drivers.web_driver import WebDriver

        driver = self._driver
        if isinstance(driver, WebDriver):
            driver.write_meta(meta)

    def answered(self, key: Key, note: str | None) -> None:
        """A screen sent an answer for ``key``: the offer moves to "My requests" (the request
        the backend recorded, if it keeps them, is pushed by its RequestBook)."""
        self.store.mark_answered(key, note)
        self.offers_changed.publish([Applied(key, new=False, arrived=False)])

    def answered_for(self, key: Key, players: Iterable[str], verdict: str, note: str | None) -> None:
        """A ticket was answered for ``players`` (``verdict``: "accepted" or "rejected"); it
        moves to "My requests" once every player of it is answered for."""
        self.store.mark_players(key, players, verdict, note)
        self.offers_changed.publish([Applied(key, new=False, arrived=False)])

    def set_filters(self, values: Mapping[str, str | None]) -> None:
        self.filters.values.update(values)
        self.offers_changed.publish([])

    # --- actions -------------------------------------------------------------------------------

    def action_help(self) -> None:
        from lobby.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "moderate":
            # Not offered on the moderator's view itself (its module is loaded once it was opened).
            loaded = sys.modules.get("lobby.tui.moderator.screen")
            return self._moderation is not None and not (
                loaded is not None and isinstance(self.screen, loaded.ModeratorScreen)
            )
        return True

    async def action_moderate(self) -> None:
        """Open the moderator's view (read-only) of the current profile's feed (once the
        settings are validated: the feed is the profile's)."""
        from lobby.moderation.sources import EmulatorSource
        from lobby.tui.moderator.screen import ModeratorScreen

        await self._settings_ready.wait()
        if self._moderation is None or isinstance(self.screen, ModeratorScreen):
            return
        try:
            source = self._moderation(self.profile)
        except (BackendError, ValueError) as exc:
            self.notify_failure("Cannot open the moderator's view", exc)
            return
        if source is None:
            self.notify(
                f"Profile {clean(self.profile or '')} has no event feed to watch: use the emulator, or "
                "set gamelift.notifications_queue to an SQS queue that receives FlexMatch events.",
                title="No moderator's view",
                severity="warning",
                markup=False,
            )
            return
        # The emulator's feed knows the service's clock better than this machine's (tests may
        # move the emulator's): countdowns then follow it.
        clock = source.clock if isinstance(source, EmulatorSource) else self.clock
        self.push_screen(ModeratorScreen(source, clock=clock))

    def action_refresh(self) -> None:
        """Reload: connect the profile again (where its services run now is read anew), or,
        for backends given as they are, ask each for its offers again."""
        if self._switch is not None and self.profile and self.connecting is None:
            if self._where is not None:
                self._where_seen = self._where(self.profile)
            self.switch_profile(self.profile, announce=False)
        else:
            self.following.follow_all()

    def open_offer(self, key: Key) -> None:
        """Open the answer screen for one offer."""
        entry = self.store.get(key)
        if entry is None:
            return
        if entry.refreshing:
            label = backend_label(entry.backend)
            said = (
                f"{brief(entry.offer.title)} is offered: it opens once {label} is connected."
                if entry.confirmed
                else f"{brief(entry.offer.title)} is last known from an earlier session: it opens "
                f"once {label} confirms it is still offered."
            )
            self.notify(said, title="Connecting" if entry.confirmed else "Refreshing", markup=False)
            return
        if entry.offer.kind is OfferKind.FLEXMATCH_TICKET:
            from lobby.tui.screens.ticket import TicketScreen

            self.push_screen(TicketScreen(key))
        else:
            from lobby.tui.screens.teambattles import TeamBattlesScreen

            self.push_screen(TeamBattlesScreen(key))

    @work(exclusive=True, group="profile")
    async def switch_profile(self, name: str | None, *, announce: bool = True) -> None:
        """Leave the current backends and connect the ones of profile ``name`` (None: the
        current profile, the settings' at start-up); the last-known offers no connected backend
        confirmed go away (those of another profile at once)."""
        if self._switch is None:
            return
        await self._settings_ready.wait()  # the profile's backends are built from them
        name = name if name is not None else self.profile
        if name is None:
            return
        if name != self.profile and self.store.refreshing:
            self.publish(self.store.drop_refreshing(), alert=False)
        await self._switch.run(name, announce=announce)
        names = {backend.name for backend in self.backends}
        if names:  # none connected: what was last known stays, marked, until one is
            gone = self.store.drop_refreshing(lambda entry: entry.backend not in names)
            if gone:
                self.publish(gone, alert=False)

    def notify_failure(self, title: str, exc: BackendError | ValueError) -> None:
        """Say why something could not be done: a BackendError's sentence, or a ValueError's."""
        message = exc.message if isinstance(exc, BackendError) else str(exc)
        self.notify(clean(message), title=title, severity="error", markup=False)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys and what each part of the screen means", self.action_help)
        yield SystemCommand("Reload offers", "Ask every backend for its offers again", self.action_refresh)
