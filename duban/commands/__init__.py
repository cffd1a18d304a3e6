"""CLI sub-commands, one module per group; each exposes ``register(subparsers)``."""


class CliError(Exception):
    """A user mistake on the command line; printed as one line."""
