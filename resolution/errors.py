"""One exception family for everything a user can cause.

Inside the engine we raise these; the CLI turns them into one clear line and a
non-zero exit. Any other exception is a bug and keeps its traceback.
"""


class ResolutionError(Exception):
    """A problem the user can fix: the message says what is wrong and how to fix it."""


class ConfigError(ResolutionError):
    """The config file is missing, unreadable or has a bad key or value."""


class InputError(ResolutionError):
    """An input file is missing, unreadable, empty, wrongly encoded or lacks a column."""


class ModelError(ResolutionError):
    """A model reference cannot be resolved or the model does not fit the config."""
