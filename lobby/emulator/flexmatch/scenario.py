from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FlexMatchScenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
