"""The keys a binding answers to now: the keymap's keys for its id, else the ones it declares.

Buttons, hints and the help screen name keys through here, so a remapped key shows everywhere
it is named ("Accept (a)" becomes "Accept (y)" once ``lobby.ticket.accept`` is mapped to ``y``).
Everything is read from the classes' own ``BINDINGS`` and the app's keymap: nothing restates a
key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import format_key


#: Arrow keys are drawn; every other named key is written out ("enter", "pageup").
ARROWS = {"up": "↑", "down": "↓", "left": "←", "right": "→"}


def declared(owner: type[DOMNode]) -> Iterator[Binding]:
    """The bindings ``owner`` declares, its own first, then those it inherits."""
    for cls in owner.__mro__:
        for binding in vars(cls).get("BINDINGS", ()):
            if isinstance(binding, Binding):
                yield binding


def declared_binding(owner: type[DOMNode], binding_id: str) -> Binding:
    """The binding of ``owner`` with id ``binding_id`` (a programming error when missing)."""
    for binding in declared(owner):
        if binding.id == binding_id:
            return binding
    raise LookupError(f"{owner.__name__} declares no binding {binding_id!r}")


def keys_of(binding: Binding, keymap: Mapping[str, str]) -> list[str]:
    """The keys ``binding`` answers to under ``keymap``, in order."""
    raw = keymap.get(binding.id, binding.key) if binding.id else binding.key
    return [key.strip() for key in raw.split(",") if key.strip()]


def key_name(key: str) -> str:
    """How one key is written for a person: ``ctrl+s``, ``a``, ``?``, ``enter``."""
    *modifiers, last = key.split("+")
    shown = format_key(last)
    if last in ARROWS or (len(shown) == 1 and shown.isascii() and shown.isprintable()):
        last = ARROWS.get(last, shown)
    return "+".join([*modifiers, last])


def keys_text(binding: Binding, keymap: Mapping[str, str], *, first_only: bool = False) -> str:
    """``"f1 / ?"``: the keys of ``binding`` now, as a person writes them."""
    keys = keys_of(binding, keymap)
    if binding.key_display and keys == keys_of(binding, {}):
        return binding.key_display
    names = [key_name(key) for key in keys]
    return names[0] if first_only and names else " / ".join(names)


def key_for(owner: type[DOMNode], binding_id: str, keymap: Mapping[str, str]) -> str:
    """The first key of ``owner``'s binding ``binding_id`` now: what a button shows."""
    return keys_text(declared_binding(owner, binding_id), keymap, first_only=True)


def merged(owner: type[DOMNode]) -> list[Binding]:
    """The bindings an instance of ``owner`` has: a subclass's binding of a key replaces its
    bases' bindings of that key (as Textual merges them)."""
    by_key: dict[str, list[Binding]] = {}
    for cls in reversed(owner.__mro__):
        own: dict[str, list[Binding]] = {}
        for binding in vars(cls).get("BINDINGS", ()):
            if isinstance(binding, Binding):
                own.setdefault(binding.key, []).append(binding)
        by_key.update(own)
    out: list[Binding] = []
    for bindings in by_key.values():
        out += [b for b in bindings if b not in out]
    return out
