"""`worklife digest`."""

from __future__ import annotations

from worklife.cli._app import app, not_landed


@app.command()
def digest() -> None:
    """Async status digest from outcomes."""
    not_landed("digest", 8)
