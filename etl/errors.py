"""Domain errors. The library raises these; the command line turns them into a message and an exit code."""


class OBAError(Exception):
    """A problem the user can fix; the message says what and how."""

    exit_code = 1


class StoreNotReady(OBAError):
    """The database has not been created or is on an older schema."""


class InputFileError(OBAError):
    """An input file cannot be read at all (missing, not the expected format, too large)."""
