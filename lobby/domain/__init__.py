"""Pure domain rules and types. Imports nothing else of lobby and no I/O framework."""
