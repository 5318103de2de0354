"""Japanese business time (pure: no web or database imports).

``BusinessCalendar`` knows when a desk is open (weekday hours, lunch breaks, 祝日 via jpholiday,
年末年始, extra closed/open dates, or 24/7) and does deadline arithmetic in Asia/Tokyo:
「本日中」 is ``end_of_business_day``, 「翌営業日まで」 is ``next_business_day_end``.
``SlaClock`` turns a timer's start/pause/resume/stop events into 対応中/期限間近/期限超過/保留/完了.
"""

from hikeshi.calendar.business import (
    DEFAULT_HOURS,
    WEEKDAYS,
    BusinessCalendar,
    DayHours,
    Interval,
    WeekHours,
    holiday_name,
    is_jp_holiday,
    is_year_end_closure,
    to_jst,
)
from hikeshi.calendar.sla import (
    SLA_STATE_LABELS,
    SlaClock,
    SlaEvent,
    SlaEventKind,
    SlaState,
    SlaStatus,
    pause_events,
)

__all__ = [
    "DEFAULT_HOURS",
    "SLA_STATE_LABELS",
    "WEEKDAYS",
    "BusinessCalendar",
    "DayHours",
    "Interval",
    "SlaClock",
    "SlaEvent",
    "SlaEventKind",
    "SlaState",
    "SlaStatus",
    "WeekHours",
    "holiday_name",
    "is_jp_holiday",
    "is_year_end_closure",
    "pause_events",
    "to_jst",
]
