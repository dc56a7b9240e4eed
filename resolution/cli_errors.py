"""How every `er` command ends on a failure: one `error:` line and exit code 2 for what
the user can fix (`ResolutionError`, and the OS-level failures `errors.os_problem`
words: disk full, read-only, not a folder, permission, too many open files), exit 130
on Ctrl+C; anything else is a bug and keeps its traceback.

One decorator for all command groups (`resolution.cli`, `resolution.review.cli`,
`training.cli`), so they cannot drift apart.
"""

from __future__ import annotations

import functools

import typer
from rich.console import Console
from rich.markup import escape

from resolution.errors import ResolutionError, os_problem

console = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print `message` as one `error:` line; the caller raises the returned exit."""
    # escaped: messages quote config values like [name_core], which rich would take as markup
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def user_errors(fn):
    """Turn a user-fixable failure into one clear line and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ResolutionError as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            console.print("interrupted; previous results are intact")
            raise typer.Exit(130) from None
        except Exception as exc:
            message = os_problem(exc)
            if message is None:
                raise
            raise fail(message) from None

    return wrapper
