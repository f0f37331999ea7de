"""`worklife guard serve` and `worklife guard next-window`."""

from __future__ import annotations

from worklife.cli._app import guard_app, not_landed


@guard_app.command("serve")
def serve() -> None:
    """Run the SMTP relay and HTTP API."""
    not_landed("guard serve", 7)


@guard_app.command("next-window")
def next_window() -> None:
    """Print when a message sent at --at would be delivered."""
    not_landed("guard next-window", 7)
