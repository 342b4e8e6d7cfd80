"""Finding the TeamBattles API key, and keeping it out of sight.

Sources, first found wins:

1. the ``TEAMBATTLES_API_KEY`` environment variable;
2. the OS keyring, service ``lobby``, user ``teambattles:<profile>`` (only when the optional
   ``keyring`` package is installed; a keyring that is absent, locked or broken is skipped);
3. the profile's ``key_file``, which must be readable by its owner only (mode 600).

Never the command line. The key lives in an :class:`ApiKey`, whose ``repr`` and ``str`` show
only where it came from; the value is read with :meth:`ApiKey.reveal` by the one piece of code
that puts it in the ``Authorization`` header. No message lobby writes contains it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from lobby.core.errors import NotConfigured

ENV_VAR = "TEAMBATTLES_API_KEY"
KEYRING_SERVICE = "lobby"
PREFIX = "tb_"

#: ``(service, username) -> secret or None``; may raise anything (a locked or broken keyring).
KeyringLookup = Callable[[str, str], "str | None"]


class ApiKey:
    """A TeamBattles API key. Shows where it came from, never what it is."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source

    def reveal(self) -> str:
        """The key itself: for the Authorization header, and for nothing else."""
        return self._value

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the key replaced by a placeholder."""
        return text.replace(self._value, "tb_***") if self._value else text

    def __repr__(self) -> str:
        return f"ApiKey(source={self.source!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("ApiKey", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("an ApiKey cannot be pickled")


def keyring_username(profile: str) -> str:
    return f"teambattles:{profile}"


def check_key(value: str, source: str) -> ApiKey:
    """Validate the shape of a key (``tb_`` and visible ASCII); the message never shows it."""
    key = value.strip()
    if not key.startswith(PREFIX):
        raise NotConfigured(
            f"The TeamBattles API key from {source} does not start with {PREFIX}; "
            "TeamBattles keys always do. Copy the whole key from your TeamBattles settings."
        )
    if len(key) <= len(PREFIX) or any(not ("!" <= c <= "~") for c in key):
        raise NotConfigured(
            f"The TeamBattles API key from {source} is empty after {PREFIX} or contains "
            "spaces or characters a key never has."
        )
    return ApiKey(key, source)


#: Marker for "use the installed keyring package, if there is one".
_INSTALLED_KEYRING = object()


def _installed_keyring() -> KeyringLookup | None:
    try:
        import keyring  # type: ignore[import-not-found]  # optional
    except Exception:  # not installed, or its backends failed to load
        return None
    return keyring.get_password  # type: ignore[no-any-return]


def _from_keyring(profile: str, lookup: KeyringLookup | None) -> str | None:
    if lookup is None:
        return None
    try:
        value = lookup(KEYRING_SERVICE, keyring_username(profile))
    except Exception:  # no backend, locked, D-Bus gone ...: the keyring is simply not a source
        return None
    return value if isinstance(value, str) and value.strip() else None


def read_key_file(path: Path) -> ApiKey:
    """The key in ``path`` (its first non-blank line); refuses files others could read."""
    path = path.expanduser()
    source = f"the key file {path}"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise NotConfigured(f"The TeamBattles key file {path} does not exist.") from None
    except OSError as exc:
        raise NotConfigured(
            f"Cannot read the TeamBattles key file {path}: {exc.strerror or 'error'}."
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise NotConfigured(f"The TeamBattles key file {path} is not a regular file.")
    if os.name == "posix":
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise NotConfigured(
                f"The TeamBattles key file {path} can be read by other users; "
                f"run `chmod 600 {path}` so only you can read it."
            )
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise NotConfigured(
                f"The TeamBattles key file {path} belongs to another user; "
                "use a file of your own with mode 600."
            )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise NotConfigured(f"Cannot read the TeamBattles key file {path}: {reason}.") from None
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line:
        raise NotConfigured(f"The TeamBattles key file {path} is empty.")
    return check_key(line, source)


def load_api_key(
    profile: str,
    key_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    keyring_lookup: KeyringLookup | None | object = _INSTALLED_KEYRING,
) -> ApiKey:
    """The key for ``profile``, from the first source that has one (see the module docs).

    ``keyring_lookup``: by default the installed ``keyring`` package, if any; None skips the
    keyring; tests pass their own function.
    """
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR, "")
    if value.strip():
        return check_key(value, f"the {ENV_VAR} environment variable")

    lookup: KeyringLookup | None
    if keyring_lookup is _INSTALLED_KEYRING:
        lookup = _installed_keyring()
    else:
        lookup = keyring_lookup  # type: ignore[assignment]
    secret = _from_keyring(profile, lookup)
    if secret is not None:
        return check_key(secret, "the OS keyring")

    if key_file is not None:
        return read_key_file(Path(key_file))

    raise NotConfigured(
        f"No TeamBattles API key found. Set {ENV_VAR}, store the key in the OS keyring "
        f"(service {KEYRING_SERVICE!r}, user {keyring_username(profile)!r}), or set "
        f"profiles.{profile}.teambattles.key_file to a file only you can read."
    )
