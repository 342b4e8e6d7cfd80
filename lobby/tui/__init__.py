"""The Textual app: screens and widgets. Reaches backends only through the protocol in lobby.core.backend."""
