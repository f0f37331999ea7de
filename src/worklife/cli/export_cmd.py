"""`worklife export`."""

from __future__ import annotations

from worklife.cli._app import app, not_landed


@app.command()
def export() -> None:
    """Export a canonical table as CSV, JSON or Parquet."""
    not_landed("export", 4)
