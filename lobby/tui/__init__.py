"""The Textual app: screens and widgets. Reaches backends only through lobby.adapters."""
