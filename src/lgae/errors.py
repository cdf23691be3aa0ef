"""User-facing errors: the command line prints their message (no traceback) and exits non-zero."""

from __future__ import annotations


class LGAEError(Exception):
    """An error caused by input the user controls (a file, a config key, an argument), with the fix."""


class DataError(LGAEError):
    """A data file is missing, corrupt, or not in the expected layout."""


class ConfigError(LGAEError):
    """A configuration key or value is wrong."""


class DownloadError(LGAEError):
    """A download failed or produced a file that does not verify."""
