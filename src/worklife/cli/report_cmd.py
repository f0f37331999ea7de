"""`worklife report`."""

from __future__ import annotations

from worklife.cli._app import app, not_landed


@app.command()
def report() -> None:
    """Write the self-contained HTML report."""
    not_landed("report", 3)
