"""The footer of keys, recomposed only when what it shows changed.

Textual's Footer builds its key widgets anew (mounted, styled, painted) on every change of the
screen's bindings: each focus move, each binding refresh, several times while the home fills,
each second on a screen whose keys depend on a countdown. This one does so only when the keys
it would show differ from the ones it shows: less work, and no moment without keys (a picture
taken while the footer was being rebuilt showed an empty footer row). Every screen with a
footer uses it. Its key widgets come with the compact state (and class) they will have once
mounted, instead of the default that Textual's FooterKey corrects after mounting, which restyles
each key twice.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeysFooter(Footer):
    """Textual's Footer, recomposed only when its keys changed."""

    _shown: tuple[object, ...] | None = None

    def _showing(self) -> tuple[object, ...]:
        """Everything Footer.compose reads to build its keys."""
        app = self.app
        keys = tuple(
            (binding.key, binding.action, binding.description, binding.show, binding.group, binding.tooltip,
             enabled, tooltip, app.get_key_display(binding))
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
        )
        return (self._bindings_ready, self.compact, self.show_command_palette, app.ENABLE_COMMAND_PALETTE, keys)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # A key bound to the footer's compact (Footer.compose binds every key but the
                # command palette's) takes it now; then neither the watcher that runs when it
                # is mounted nor the binding changes its class (each change restyles it).
                bound = "compact" in (widget._reactive_connect or {})
                if bound:
                    widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(widget.compact, "-compact", update=False)
            yield widget

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        showing = self._showing()
        if showing == self._shown:
            return
        self._shown = showing
        await super().recompose()
