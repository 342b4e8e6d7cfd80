"""TeamBattles: its rules, wire shapes, client and backend."""
