"""The exceptions wembed raises: every library error arrives as one of these, with the
library's one-line message. All derive from :class:`Error`; each also derives from the
built-in exception a Python user would catch for it."""


class Error(Exception):
    """Any error of the wembed library."""


class NotFound(Error, FileNotFoundError):
    """A file or folder that does not exist (a corpus, a vectors file, a model folder)."""


class FileError(Error, OSError):
    """Reading or writing a file failed (permissions, a full disk)."""


class BadFile(Error, ValueError):
    """A file that is not what it claims: corrupt, truncated, or in no format wembed reads."""


class InvalidArgument(Error, ValueError):
    """A setting that cannot train, an unknown setting, or an empty corpus or vocabulary."""


class FolderInUse(Error, FileExistsError):
    """The output folder already holds a model or an interrupted run (``force=True``
    replaces it; :func:`wembed.resume` continues it)."""


class UnknownWord(Error, KeyError):
    """A query word without a vector (only models trained with subwords answer for any word)."""

    def __str__(self):
        # KeyError would print the message quoted.
        return str(self.args[0]) if self.args else ""


class Interrupted(Error):
    """A run stopped at its last checkpoint; :func:`wembed.resume` continues it."""
