"""HTTP plumbing every client shares: retries, transports, the event stream."""
