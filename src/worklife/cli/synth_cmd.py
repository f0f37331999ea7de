"""`worklife synth` and `worklife demo`."""

from __future__ import annotations

from worklife.cli._app import app, not_landed


@app.command()
def synth() -> None:
    """Write a synthetic organisation's raw files and its ground truth."""
    not_landed("synth", 3)


@app.command()
def demo() -> None:
    """Synthetic organisation -> raw files -> ingest -> metrics -> report."""
    not_landed("demo", 3)
