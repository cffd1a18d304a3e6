"""Duban composition root: settings, CLI and process wiring. Nothing imports this package."""
