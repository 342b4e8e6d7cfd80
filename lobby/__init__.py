"""lobby: a match-acceptance console for GameLift FlexMatch and TeamBattles."""

__version__ = "0.1.0"
