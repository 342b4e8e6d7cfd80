"""What every side shares: the clock, offers, the backend protocol, errors."""
