"""Typed failures of any backend, each carrying one plain sentence for a person.

Adapters map every transport and service failure to one of these; nothing else escapes them.
Messages never contain credentials.
"""

from __future__ import annotations


class BackendError(Exception):
    """Base of every adapter failure. ``code`` is the service's own error code when it sent one."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        #: The service's own explanation, for people only; never branch on it.
        self.details = details

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


class NotConfigured(BackendError):
    """Nothing tells lobby where the backend is or how to sign in."""


class AuthenticationFailed(BackendError):
    """The credentials are missing, unknown, expired or revoked."""


class PermissionDenied(BackendError):
    """The caller is known but not allowed to do this (plan, scope, key kind, role)."""


class NotFound(BackendError):
    """The ticket, match or team does not exist (any more)."""


class InvalidRequest(BackendError):
    """The service refused the request as it stands; retrying the same request cannot help."""


class Conflict(BackendError):
    """The request clashes with the current state (already answered, key reused, ...)."""


class Throttled(BackendError):
    """Too many requests; ``retry_after`` seconds is the service's hint when it gave one."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class Unavailable(BackendError):
    """The service could not be reached or failed on its side (network error, 5xx).

    ``timeout`` is true when no answer came in time; retry budgets charge those more.
    """

    retryable = True

    def __init__(self, message: str, *, timeout: bool = False, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.timeout = timeout


class ProtocolError(BackendError):
    """The service answered something lobby cannot understand."""
