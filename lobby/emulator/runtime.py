"""What the emulator's components share: configuration, store, clock, event log, scheduler."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from lobby.core.clock import Clock, SystemClock
from lobby.emulator.events import EventLog, Signal
from lobby.emulator.store import Store

log = logging.getLogger("lobby.emulator")

#: A periodic job: given the time now (epoch seconds), do what is due and return when it next
#: wants to run (epoch seconds), or None if it has nothing scheduled.
Ticker = Callable[[float], float | None]


class EmulatorConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    db: str = ":memory:"
    scenario: Path | None = Field(
        default=None, description="Scenario file; None loads the built-in demo scenario."
    )
    region: str = "us-east-1"
    account_id: str = "123456789012"
    verify_sigv4: bool = False
    time_travel: bool = Field(
        default=False, description="Allow POST /_emulator/clock to move the clock forward."
    )
    bots: bool = Field(default=False, description="Run the scenario's demo bots.")
    public_host: str = "127.0.0.1"
    control_token: SecretStr | None = Field(
        default=None,
        description="Token of the /_emulator/* routes; beyond loopback one is made when not given.",
    )
    # Fault injection (lobby.emulator.faults): off unless fault_rate > 0.
    fault_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Share of calls hit.")
    fault_kinds: tuple[str, ...] = Field(
        default=("500", "503", "throttle", "slow", "drop"), description="Which faults to inject."
    )
    fault_seed: int | None = Field(default=None, description="Seed of the fault decisions.")
    fault_delay: float = Field(default=0.5, ge=0.0, le=60.0, description="Delay of a slow answer.")
    fault_after_share: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Share of faults that strike after execution."
    )


@dataclass
class Runtime:
    config: EmulatorConfig
    store: Store
    clock: Clock
    events: EventLog
    tickers: list[tuple[str, Ticker]] = field(default_factory=list)
    wake: Signal = field(default_factory=Signal)
    stopping: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def open(cls, config: EmulatorConfig, clock: Clock | None = None) -> Runtime:
        clock = clock or SystemClock()
        store = Store(config.db)
        return cls(config=config, store=store, clock=clock, events=EventLog(store, clock))

    def add_ticker(self, name: str, ticker: Ticker) -> None:
        self.tickers.append((name, ticker))

    def poke(self) -> None:
        """Something changed (a write, a clock jump): let the scheduler look again now."""
        self.wake.fire()

    def run_due(self) -> float | None:
        """Run every ticker once; return the earliest time any wants to run again."""
        now = self.clock.timestamp()
        nxt: float | None = None
        for name, ticker in self.tickers:
            try:
                due = ticker(now)
            except Exception:  # one broken job must not stop the others
                log.exception("ticker %s failed", name)
                due = now + 1.0
            if due is not None and (nxt is None or due < nxt):
                nxt = due
        return nxt

    async def run_scheduler(self, max_sleep: float = 0.5) -> None:
        """Run tickers whenever something is due or something changed, until stopping."""
        while not self.stopping.is_set():
            nxt = self.run_due()
            delay = max_sleep
            if nxt is not None:
                delay = min(max_sleep, max(0.0, nxt - self.clock.timestamp()))
            if delay > 0:
                await self.wake.wait(delay)
            else:
                await asyncio.sleep(0)
