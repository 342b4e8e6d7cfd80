"""Snapshot tests share the fixed in-memory backend of the TUI tests."""

from __future__ import annotations

import sys
from pathlib import Path

TUI_TESTS = str(Path(__file__).resolve().parent.parent / "tui")
if TUI_TESTS not in sys.path:
    sys.path.insert(0, TUI_TESTS)
