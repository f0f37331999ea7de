"""The state of a store's stored metric results, as a reader finds it, and the one line
said when a read-only store's numbers are computed in memory (``worklife.metrics.results``)."""

from __future__ import annotations

from dataclasses import dataclass, field

FRESH, STALE, ABSENT = "fresh", "stale", "absent"

__all__ = ["ABSENT", "FRESH", "STALE", "ResultsState", "in_memory_note"]


@dataclass(frozen=True)
class ResultsState:
    """The stored results of a store (``worklife.metrics.results.results_state``).

    ``state``: fresh | stale | absent; ``reasons``: why stale or absent (the plan's
    reasons, only the non-zero ones); ``refreshed_utc``: when they were last computed
    (ISO, UTC; None when absent); ``read_only``: the store is open read-only (stale
    results are then computed in memory by readers, never stored).
    """

    state: str
    reasons: list[str] = field(default_factory=list)
    refreshed_utc: str | None = None
    read_only: bool = False

    @property
    def usable(self) -> bool:
        """Readers get stored numbers: fresh, or a writable store (``person_weeks`` refreshes it)."""
        return self.state == FRESH or not self.read_only

    def describe(self) -> str:
        """Where the numbers come from, in words (one phrase)."""
        when = f"computed {self.refreshed_utc} UTC" if self.refreshed_utc else ""
        if self.state == FRESH:
            return f"stored results, fresh ({when})"
        why = "; ".join(self.reasons) or "unknown reason"
        if self.state == STALE:
            return f"stored results, stale ({why}; {when})"
        return f"no stored results ({why})"


def in_memory_note(state: ResultsState, label: str = "this store") -> str:
    """The one line said (logged as a warning: on stderr in the CLI) when a store's stale
    or absent results are computed in memory; it starts with ``note: `` like every other
    note the CLI prints (``worklife.cli._app.warn``)."""
    what = "has no stored metric results" if state.state == ABSENT else \
        f"has stale stored metric results ({'; '.join(state.reasons)})"
    cmd = f"`worklife metrics --db {'FILE' if label == 'this store' else label}`"
    if not state.read_only:  # a reader asked not to update (``person_weeks(update=False)``)
        return f"note: {label} {what}: computing the metrics in memory ({cmd} stores them)"
    return (f"note: {label} {what} and is open read-only: computing the metrics in memory, not storing "
            f"them ({cmd}, run by a user who can write the store, stores them)")
