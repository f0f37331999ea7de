"""`worklife ingest`."""

from __future__ import annotations

from worklife.cli._app import app, not_landed


@app.command()
def ingest() -> None:
    """Read raw exports into the store."""
    not_landed("ingest", 4)
