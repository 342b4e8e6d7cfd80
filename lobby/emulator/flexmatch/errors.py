"""The errors the emulated GameLift service answers with.

Each carries the code a client sees in ``__type`` and the HTTP status. Codes from the service
model (InvalidRequestException, NotFoundException, ...) answer 400, except
InternalServiceException (500); protocol-level refusals (bad body, unknown operation,
authentication) use the codes AWS's front end uses for them.
"""

from __future__ import annotations


class GameLiftError(Exception):
    code = "InternalServiceException"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InternalServiceException(GameLiftError):
    code = "InternalServiceException"
    status = 500


class ServiceUnavailableException(GameLiftError):
    code = "ServiceUnavailableException"
    status = 503


class ThrottlingException(GameLiftError):
    code = "ThrottlingException"
    status = 400


class InvalidRequestException(GameLiftError):
    code = "InvalidRequestException"
    status = 400


class NotFoundException(GameLiftError):
    code = "NotFoundException"
    status = 400


class UnsupportedRegionException(GameLiftError):
    code = "UnsupportedRegionException"
    status = 400


class LimitExceededException(GameLiftError):
    code = "LimitExceededException"
    status = 400


class SerializationException(GameLiftError):
    """The body could not be read as the operation's input (not JSON/CBOR, wrong types)."""

    code = "SerializationException"
    status = 400


class UnknownOperationException(GameLiftError):
    code = "UnknownOperationException"
    status = 400


class RequestEntityTooLargeException(GameLiftError):
    """The body is larger than any operation's input can be."""

    code = "RequestEntityTooLargeException"
    status = 413


class UnsupportedMediaTypeException(GameLiftError):
    code = "UnsupportedMediaTypeException"
    status = 415


class MissingAuthenticationTokenException(GameLiftError):
    code = "MissingAuthenticationTokenException"
    status = 400


class IncompleteSignatureException(GameLiftError):
    code = "IncompleteSignatureException"
    status = 400


class UnrecognizedClientException(GameLiftError):
    code = "UnrecognizedClientException"
    status = 400


class InvalidSignatureException(GameLiftError):
    code = "InvalidSignatureException"
    status = 400
