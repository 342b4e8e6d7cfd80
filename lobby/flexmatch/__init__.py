"""GameLift FlexMatch: its lifecycle rules, wire shapes, client and backend."""
