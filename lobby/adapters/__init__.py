"""The HTTP adapter layer: one package per backend behind one Protocol. No textual, no emulator."""
