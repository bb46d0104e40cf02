"""The one exception type for mistakes a user can make (bad config, bad file)."""


class CushionError(Exception):
    """A problem the user can fix; the message names the file, line or key.

    The CLI prints it as one line and exits with status 2, without a traceback.
    """
