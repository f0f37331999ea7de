"""Writing a rendered page to disk: atomically, so a reader never sees half a report."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(text: str, out_path: str | Path) -> Path:
    """Write ``text`` (UTF-8) to ``out_path`` through a temporary file and a rename; return the path."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out
