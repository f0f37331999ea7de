"""Vectorised local <-> UTC conversion for the generator (not for the ground truth).

The generator places activity at local wall-clock times of day. ``Clock`` holds, per
zone and local date, the UTC offset in force at local noon; a local time of day on that
date maps to UTC with that offset. This is exact for every time that is not in the
night of a DST change (all zones used change at night); the few planted night events
are converted with ``zoneinfo`` directly (``exact_utc``). The ground truth never uses
this module: it reads the generated UTC instants with ``zoneinfo``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

EPOCH = date(1970, 1, 1)


class Clock:
    """Offsets of ``zones`` for the local dates ``day0 .. day0 + ndays - 1``."""

    def __init__(self, zones: list[str], day0: date, ndays: int):
        self.zones = list(zones)
        self.index = {z: i for i, z in enumerate(self.zones)}
        self.day0 = day0
        self.ndays = ndays
        self.epoch_day0 = (day0 - EPOCH).days
        off = np.zeros((len(self.zones), ndays), dtype=np.int64)
        for zi, tz in enumerate(self.zones):
            zone = ZoneInfo(tz)
            for d in range(ndays):
                day = day0 + timedelta(days=d)
                off[zi, d] = int(datetime(day.year, day.month, day.day, 12, tzinfo=zone).utcoffset().total_seconds())
        self.noon_off = off

    def date(self, d: int) -> date:
        return self.day0 + timedelta(days=int(d))

    def utc(self, z: np.ndarray, d: np.ndarray, tod: np.ndarray) -> np.ndarray:
        """UTC seconds of local time-of-day ``tod`` (seconds, may exceed 86400) on local day ``d``."""
        return (self.epoch_day0 + d) * 86400 + tod - self.noon_off[z, d]

    def local(self, z: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(local day index, local seconds after midnight) of UTC seconds ``t``."""
        hi = self.ndays - 1
        d = np.minimum(np.maximum(t // 86400 - self.epoch_day0, 0), hi)
        loc = t + self.noon_off[z, d]
        d = np.minimum(np.maximum(loc // 86400 - self.epoch_day0, 0), hi)
        loc = t + self.noon_off[z, d]
        return loc // 86400 - self.epoch_day0, loc % 86400

    def offset_at(self, z: np.ndarray, t: np.ndarray) -> np.ndarray:
        d, _ = self.local(z, t)
        return self.noon_off[z, np.minimum(np.maximum(d, 0), self.ndays - 1)]


def exact_utc(tz: str, local: datetime) -> int:
    """UTC seconds of a naive local wall-clock time in ``tz`` (fold=0 in a repeated hour)."""
    aware = local.replace(tzinfo=ZoneInfo(tz))
    return int(aware.astimezone(timezone.utc).timestamp())


def exact_offset(tz: str, t: int) -> int:
    """UTC offset (seconds) of ``tz`` at UTC second ``t``."""
    dt = datetime.fromtimestamp(t, timezone.utc).astimezone(ZoneInfo(tz))
    return int(dt.utcoffset().total_seconds())
