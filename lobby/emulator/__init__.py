"""The embedded emulator of GameLift FlexMatch and TeamBattles (FastAPI + uvicorn + SQLite).

Uses domain rules; never imports adapters or tui.
"""
