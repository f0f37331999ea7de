"""Command-line interface: a thin layer over the library (see ``worklife --help``).

Each command group lives in its own module and registers on the shared ``app``;
``main`` turns WorklifeError into one line on stderr and exit code 1.
"""

from __future__ import annotations

import sys

from worklife.cli._app import app, err_console, error_line
from worklife.errors import WorklifeError

# Importing the command modules registers their commands on ``app``.
from worklife.cli import (  # noqa: E402,F401
    app_cmd,
    config_cmd,
    demo_cmd,
    digest_cmd,
    export_cmd,
    guard_cmd,
    ingest_cmd,
    metrics_cmd,
    policy_cmd,
    report_cmd,
    synth_cmd,
)

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``worklife`` console script."""
    try:
        app(args=argv, prog_name="worklife", standalone_mode=True)
    except WorklifeError as exc:
        err_console.print(error_line(str(exc)), highlight=False, soft_wrap=True)
        sys.exit(getattr(exc, "exit_code", 1))  # 75: another run holds the store's lock
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
