"""Page views -> visits; the Vietnamese calendar day; times as the feeds write them."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

VN_OFFSET = 7 * 3600  # Asia/Ho_Chi_Minh: UTC+7, no daylight saving since 1975
VN_TZ = timezone(timedelta(seconds=VN_OFFSET))
VISIT_GAP = 30 * 60  # a longer gap starts a new visit; exactly 30 min continues
ONLINE_WINDOW = 5 * 60  # online = page view in [now - 5 min, now]

_day_cache: dict[int, str] = {}


def vn_day(moment: int) -> str:
    """The calendar day in Vietnam (UTC+7) of a Unix time, as ``YYYY-MM-DD``."""
    number = (moment + VN_OFFSET) // 86400
    day = _day_cache.get(number)
    if day is None:
        day = _day_cache[number] = date.fromordinal(number + 719163).isoformat()
    return day


def iso_time(moment: int | None) -> str | None:
    """Unix time -> ``2020-08-14T11:00:00+07:00`` (None stays None)."""
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, VN_TZ).isoformat()


class Visits:
    """Sessionize page views, in time order, into visits.

    ``visitors`` maps a visitor id to the time of their latest page view (this
    is what carries open visits over from one run to the next); ``days`` maps a
    Vietnamese calendar day to the number of visits that began on it.
    """

    def __init__(self, visitors: dict | None = None, days: dict | None = None, gap: int = VISIT_GAP):
        self.visitors = {} if visitors is None else visitors
        self.days = {} if days is None else days
        self.gap = gap
        self.new_visits = 0

    def add(self, moment: int, visitor) -> bool:
        """Count one page view; True if it begins a new visit.

        A page view within ``gap`` seconds of the visitor's latest one
        continues the visit, also when it comes late (earlier than that latest
        one, from a log read after it).
        """
        last = self.visitors.get(visitor)
        if last is not None and abs(moment - last) <= self.gap:
            if moment > last:
                self.visitors[visitor] = moment
            return False
        if last is None or moment > last:
            self.visitors[visitor] = moment
        day = vn_day(moment)
        self.days[day] = self.days.get(day, 0) + 1
        self.new_visits += 1
        return True


def online_count(visitors: dict, now: int | None) -> int:
    """Visitors whose latest page view is within ONLINE_WINDOW before ``now``."""
    if now is None:
        return 0
    since = now - ONLINE_WINDOW
    return sum(1 for last in visitors.values() if since <= last <= now)


def visitor_id(ip: bytes, agent: bytes) -> str:
    """A pseudonymous visitor id: the state file stores no IP address."""
    return hashlib.blake2b(ip + b"\0" + agent, digest_size=12).hexdigest()
