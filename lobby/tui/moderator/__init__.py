"""The moderator's console: every live ticket and match, read-only (see ``screen``)."""
