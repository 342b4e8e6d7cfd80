from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TeamBattlesScenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
