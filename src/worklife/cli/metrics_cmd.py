"""`worklife metrics`, `worklife explain`, `worklife export-viva`."""

from __future__ import annotations

from worklife.cli._app import app, not_landed


@app.command()
def metrics() -> None:
    """Person-week work-pattern metrics."""
    not_landed("metrics", 5)


@app.command()
def explain() -> None:
    """The events behind one metric value, with every exclusion."""
    not_landed("explain", 5)


@app.command("export-viva")
def export_viva() -> None:
    """A Viva Insights person query (CSV)."""
    not_landed("export-viva", 5)
