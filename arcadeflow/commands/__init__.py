"""arcadeflow subcommands beyond `up` and `token`."""


class CommandError(Exception):
    """An error the user can act on: the CLI prints its message, not a traceback."""
