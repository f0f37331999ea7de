"""Structured audit lines: one JSON object per event on the ``worklife.guard.audit`` logger.

User text (an urgent reason's text, an address) is a JSON string value, so a newline
in it is written as ``\\n`` and can never start a line of its own; ``ensure_ascii``
also escapes U+2028/U+2029 and other characters some log viewers break lines on.
The same events are rows of the queue's ``urgent_log`` table.
"""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger("worklife.guard.audit")


def audit_line(event: str, **fields: Any) -> str:
    """The JSON text of one audit event (one line, ASCII)."""
    return json.dumps({"event": event, **fields}, ensure_ascii=True, separators=(",", ":"), default=str)


def audit(event: str, **fields: Any) -> None:
    """Log one audit event at WARNING (so it is kept at the default log level)."""
    log.warning("%s", audit_line(event, **fields))
