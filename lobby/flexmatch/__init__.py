"""GameLift FlexMatch: its lifecycle rules, wire shapes, events and their fold, client and backend."""
