"""Errors a user can cause and fix.

Every library error that comes from user input derives from :class:`MlplabError`, so the CLI and
the web app can show its message as one clear line instead of a traceback. The message always says
what was wrong *and* what to do about it.
"""

from __future__ import annotations


class MlplabError(Exception):
    """A problem the user can fix; ``str(error)`` is a complete, one-line explanation."""


class DataError(MlplabError):
    """A data file is missing, damaged or not in the IDX layout."""


class ConfigError(MlplabError, ValueError):
    """A setting has a value that cannot work (unknown name, out of range, wrong shape)."""


class RunFolderError(MlplabError):
    """A run folder is missing, incomplete or cannot be written."""
