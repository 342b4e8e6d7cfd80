from __future__ import annotations

from fastapi import FastAPI

from lobby.emulator.runtime import Runtime
from lobby.emulator.flexmatch.scenario import FlexMatchScenario


def install(app: FastAPI, runtime: Runtime, scenario: FlexMatchScenario) -> None:
    """Add this service's routes, schema, seed data and scheduled jobs to the emulator."""
