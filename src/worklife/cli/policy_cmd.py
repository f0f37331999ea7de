"""`worklife check` and `worklife boundaries`."""

from __future__ import annotations

from worklife.cli._app import app, not_landed


@app.command()
def check() -> None:
    """Check right-to-disconnect and working-time rules."""
    not_landed("check", 6)
