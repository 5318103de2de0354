"""Operator wellbeing (オペレーターのケア): harassment exposure and the rules that act on it.

The organisation, not the operator's endurance, carries the load: these rules read what calls and
triage already record and tell the supervisor who needs care now, without the operator asking.

Inputs are plain records (the service layer builds them from calls and triage):
:class:`CallRecord` (who took which call, when, from which caller, in which queue),
:class:`FlagRecord` (a flagged utterance: time, severity, category, seconds) and
:class:`BreakRecord` (breaks already taken). Severity is 1 (軽度: rude, holding the line),
2 (中度: 暴言, 人格否定, 不当要求, SNS晒し) or 3 (重度: 脅迫, 性的, 差別);
:func:`flag_severity` maps triage categories and anger level onto it.

Rules (thresholds in :class:`WellbeingPolicy`; every comparison is inclusive, "at least", except
the after-call gap, which is short when strictly below its threshold):

* **cooldown** — a call with a flag of severity ≥ ``cooldown_severity`` ended within
  ``cooldown_within`` and no break has started since: a ``cooldown_minutes`` break now.
* **rotation** — in the last ``rotation_window``, ≥ ``rotation_flagged_calls`` flagged calls or
  ≥ ``rotation_flagged_minutes`` minutes on flagged calls: move away from the hot queue.
* **pair_handling** (ペア対応) — a caller with ≥ ``pair_flagged_calls`` flagged calls in
  ``pair_window``, or one flag of severity ≥ ``pair_severity``: two people handle their next
  contact (an SV listens in or takes over).
* **silent_sos** (声なきSOS) — in the last ``sos_window`` at least ``sos_min_signals`` of three
  signals: ≥ ``sos_flagged_calls`` flagged calls; ≥ ``sos_long_calls`` calls lasting
  ≥ ``sos_long_call_minutes``; ≥ ``sos_short_gaps`` after-call gaps shorter than
  ``sos_short_gap_seconds``.

Windows are closed: [now − window, now]. Each recommendation carries its reason (Japanese, for
the supervisor) and its evidence: the calls, each with why it counts.

Privacy: :func:`care_board` is what a supervisor sees; it takes no stress-check input, so it
cannot leak one. The optional stress check is scored apart, in
:mod:`hikeshi.workforce.stress_check`, which refuses every role but the designated one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from hikeshi.clock import JST

SEVERITY_MIN, SEVERITY_MAX = 1, 3
SEVERITY_LABELS = {1: "軽度", 2: "中度", 3: "重度"}
# Triage categories (hikeshi.playbooks.schemas.HarassmentCategory) by severity.
SEVERITY_BY_CATEGORY: dict[str, int] = {
    "threat": 3,
    "sexual": 3,
    "discrimination": 3,
    "abuse": 2,
    "personal_attack": 2,
    "unreasonable_demand": 2,
    "sns_exposure": 2,
    "long_hold": 1,
}
CATEGORY_LABELS = {
    "threat": "脅迫",
    "sexual": "性的",
    "discrimination": "差別",
    "abuse": "暴言",
    "personal_attack": "人格否定",
    "unreasonable_demand": "不当要求",
    "sns_exposure": "SNS晒し",
    "long_hold": "長時間拘束",
}

RecommendationKind = Literal["cooldown", "rotation", "pair_handling", "silent_sos"]


class WellbeingError(ValueError):
    """Invalid wellbeing input; the message names the record."""


def _aware(moment: datetime, where: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise WellbeingError(f"{where}: naive datetime refused, pass a timezone-aware one")


def flag_severity(categories: Iterable[str], anger_level: int = 0) -> int:
    """Severity 0..3 of an utterance from triage: its worst category, at least its anger level
    (0 = not flagged)."""
    worst = max((SEVERITY_BY_CATEGORY.get(c, 1) for c in categories), default=0)
    return min(SEVERITY_MAX, max(worst, anger_level))


# -- records -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRecord:
    """A call an operator took. ``ended_at`` None: still on the line. ``caller_key`` is a
    pseudonymous key for the caller (e.g. a hash of the number), used for pair handling."""

    call_id: str
    operator_id: str
    started_at: datetime
    ended_at: datetime | None = None
    caller_key: str | None = None
    queue: str = "main"

    def __post_init__(self) -> None:
        _aware(self.started_at, f"call {self.call_id}: started_at")
        if self.ended_at is not None:
            _aware(self.ended_at, f"call {self.call_id}: ended_at")
            if self.ended_at < self.started_at:
                raise WellbeingError(f"call {self.call_id}: ended_at is before started_at")

    def end(self, now: datetime) -> datetime:
        return min(self.ended_at, now) if self.ended_at is not None else now

    def minutes(self, now: datetime) -> float:
        return max(0.0, (self.end(now) - self.started_at).total_seconds() / 60)


@dataclass(frozen=True)
class FlagRecord:
    """A flagged utterance in a call (from triage, the operator's 手上げ or an SV)."""

    call_id: str
    at: datetime
    severity: int
    category: str = "abuse"
    seconds: float = 0.0

    def __post_init__(self) -> None:
        _aware(self.at, f"flag on call {self.call_id}: at")
        if not SEVERITY_MIN <= self.severity <= SEVERITY_MAX:
            raise WellbeingError(
                f"flag on call {self.call_id}: severity must be {SEVERITY_MIN}..{SEVERITY_MAX}, "
                f"got {self.severity}"
            )
        if self.seconds < 0:
            raise WellbeingError(f"flag on call {self.call_id}: seconds must be >= 0")


@dataclass(frozen=True)
class BreakRecord:
    operator_id: str
    started_at: datetime
    ended_at: datetime | None = None
    kind: str = "cooldown"

    def __post_init__(self) -> None:
        _aware(self.started_at, f"break of {self.operator_id}: started_at")


@dataclass(frozen=True)
class WellbeingPolicy:
    """Thresholds of the rules (see the module docstring). Defaults are a starting point for a
    crisis desk; each centre sets its own with its occupational health staff."""

    cooldown_severity: int = 3
    cooldown_within: timedelta = timedelta(minutes=30)
    cooldown_minutes: int = 15
    rotation_window: timedelta = timedelta(hours=2)
    rotation_flagged_calls: int = 3
    rotation_flagged_minutes: float = 40.0
    rotation_minutes: int = 60
    pair_window: timedelta = timedelta(days=30)
    pair_flagged_calls: int = 2
    pair_severity: int = 3
    sos_window: timedelta = timedelta(hours=2)
    sos_flagged_calls: int = 2
    sos_long_call_minutes: float = 30.0
    sos_long_calls: int = 1
    sos_short_gap_seconds: float = 60.0
    sos_short_gaps: int = 3
    sos_min_signals: int = 2
    exposure_windows: tuple[timedelta, ...] = (
        timedelta(hours=1),
        timedelta(hours=8),
        timedelta(days=7),
    )

    def __post_init__(self) -> None:
        for name in ("cooldown_severity", "pair_severity"):
            value = getattr(self, name)
            if not SEVERITY_MIN <= value <= SEVERITY_MAX:
                raise WellbeingError(f"policy.{name}: must be {SEVERITY_MIN}..{SEVERITY_MAX}")
        for name in (
            "rotation_flagged_calls",
            "pair_flagged_calls",
            "sos_flagged_calls",
            "sos_long_calls",
            "sos_short_gaps",
        ):
            if getattr(self, name) < 1:
                raise WellbeingError(f"policy.{name}: must be >= 1")
        if not 1 <= self.sos_min_signals <= 3:
            raise WellbeingError("policy.sos_min_signals: must be 1..3")
        windows = ("cooldown_within", "rotation_window", "pair_window", "sos_window")
        for name in windows:
            if getattr(self, name) <= timedelta(0):
                raise WellbeingError(f"policy.{name}: must be positive")


# -- exposure ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """One call behind a recommendation, and why it counts."""

    call_id: str
    started_at: datetime
    ended_at: datetime | None
    why: str
    max_severity: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "why": self.why,
            "max_severity": self.max_severity,
        }


@dataclass(frozen=True)
class Exposure:
    """Harassment exposure of one operator in [now − window, now]."""

    operator_id: str
    window: timedelta
    flagged_calls: int
    flagged_minutes: float
    flagged_seconds: float  # of the flagged utterances themselves
    max_severity: int
    call_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "operator_id": self.operator_id,
            "window_minutes": self.window.total_seconds() / 60,
            "flagged_calls": self.flagged_calls,
            "flagged_minutes": round(self.flagged_minutes, 2),
            "flagged_seconds": round(self.flagged_seconds, 1),
            "max_severity": self.max_severity,
            "call_ids": list(self.call_ids),
        }


class _Index:
    """Calls and flags arranged for the rules."""

    def __init__(self, calls: Sequence[CallRecord], flags: Sequence[FlagRecord]) -> None:
        self.calls = {c.call_id: c for c in calls}
        if len(self.calls) != len(calls):
            raise WellbeingError("calls: duplicate call_id")
        self.flags_by_call: dict[str, list[FlagRecord]] = {}
        for flag in flags:
            if flag.call_id not in self.calls:
                raise WellbeingError(f"flag at {flag.at.isoformat()}: unknown call {flag.call_id}")
            self.flags_by_call.setdefault(flag.call_id, []).append(flag)
        self.by_operator: dict[str, list[CallRecord]] = {}
        for call in sorted(calls, key=lambda c: (c.started_at, c.call_id)):
            self.by_operator.setdefault(call.operator_id, []).append(call)

    def flags_in(self, call_id: str, lo: datetime, hi: datetime) -> list[FlagRecord]:
        return [f for f in self.flags_by_call.get(call_id, ()) if lo <= f.at <= hi]

    def flagged(
        self, calls: Iterable[CallRecord], lo: datetime, hi: datetime
    ) -> list[tuple[CallRecord, list[FlagRecord]]]:
        found = []
        for call in calls:
            hits = self.flags_in(call.call_id, lo, hi)
            if hits:
                found.append((call, hits))
        return found


def _flag_evidence(call: CallRecord, hits: Sequence[FlagRecord]) -> Evidence:
    worst = max(hits, key=lambda f: (f.severity, f.at))
    label = CATEGORY_LABELS.get(worst.category, worst.category)
    return Evidence(
        call_id=call.call_id,
        started_at=call.started_at,
        ended_at=call.ended_at,
        why=f"{SEVERITY_LABELS[worst.severity]}のカスハラ ({label}) {len(hits)}件",
        max_severity=worst.severity,
    )


def _exposure(index: _Index, operator_id: str, now: datetime, window: timedelta) -> Exposure:
    lo = now - window
    found = index.flagged(index.by_operator.get(operator_id, ()), lo, now)
    minutes = sum(
        max(0.0, (call.end(now) - max(call.started_at, lo)).total_seconds() / 60)
        for call, _ in found
    )
    return Exposure(
        operator_id=operator_id,
        window=window,
        flagged_calls=len(found),
        flagged_minutes=minutes,
        flagged_seconds=sum(f.seconds for _, hits in found for f in hits),
        max_severity=max((f.severity for _, hits in found for f in hits), default=0),
        call_ids=tuple(call.call_id for call, _ in found),
    )


def exposure(
    operator_id: str,
    calls: Sequence[CallRecord],
    flags: Sequence[FlagRecord],
    *,
    now: datetime,
    window: timedelta,
) -> Exposure:
    """Flagged calls, minutes on them (clipped to the window) and worst severity, for the flags
    raised in [now − window, now]."""
    _aware(now, "now")
    return _exposure(_Index(calls, flags), operator_id, now, window)


# -- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    kind: RecommendationKind
    reason: str
    evidence: tuple[Evidence, ...]
    operator_id: str | None = None
    caller_key: str | None = None
    minutes: int | None = None  # length of the break or rotation
    queue: str | None = None  # the queue to rotate away from
    signals: tuple[str, ...] = ()  # silent SOS: which signals fired

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "operator_id": self.operator_id,
            "caller_key": self.caller_key,
            "minutes": self.minutes,
            "queue": self.queue,
            "signals": list(self.signals),
            "evidence": [e.to_dict() for e in self.evidence],
        }


def _cooldown(
    index: _Index, operator: str, breaks: Sequence[BreakRecord], now: datetime, p: WellbeingPolicy
) -> Recommendation | None:
    lo = now - p.cooldown_within
    severe = [
        (call, hits)
        for call in index.by_operator.get(operator, ())
        if call.ended_at is not None and lo <= call.ended_at <= now
        for hits in [[f for f in index.flags_by_call.get(call.call_id, ()) if f.at <= now]]
        if hits and max(f.severity for f in hits) >= p.cooldown_severity
    ]
    if not severe:
        return None
    call, hits = max(severe, key=lambda ch: (ch[0].ended_at, ch[0].call_id))
    assert call.ended_at is not None
    ended = call.ended_at
    if any(b.operator_id == operator and ended <= b.started_at <= now for b in breaks):
        return None  # already had a break since that call
    return Recommendation(
        kind="cooldown",
        operator_id=operator,
        minutes=p.cooldown_minutes,
        reason=(
            f"{ended.astimezone(JST):%H:%M}に終わった通話で重大なカスハラがありました。"
            f"次の着信の前に{p.cooldown_minutes}分のクールダウン休憩を取ってください"
        ),
        evidence=(_flag_evidence(call, hits),),
    )


def _rotation(
    index: _Index, operator: str, now: datetime, p: WellbeingPolicy
) -> Recommendation | None:
    seen = _exposure(index, operator, now, p.rotation_window)
    by_calls = seen.flagged_calls >= p.rotation_flagged_calls
    by_minutes = seen.flagged_minutes >= p.rotation_flagged_minutes
    if not (by_calls or by_minutes):
        return None
    found = index.flagged(index.by_operator.get(operator, ()), now - p.rotation_window, now)
    queues: dict[str, int] = {}
    for call, _ in found:
        queues[call.queue] = queues.get(call.queue, 0) + 1
    hot = max(sorted(queues), key=lambda q: queues[q])
    hours = p.rotation_window.total_seconds() / 3600
    what = []
    if by_calls:
        what.append(f"カスハラ通話{seen.flagged_calls}件")
    if by_minutes:
        what.append(f"カスハラ通話の合計{seen.flagged_minutes:.0f}分")
    return Recommendation(
        kind="rotation",
        operator_id=operator,
        minutes=p.rotation_minutes,
        queue=hot,
        reason=(
            f"直近{hours:g}時間で{'・'.join(what)}に対応しています。"
            f"{p.rotation_minutes}分間「{hot}」キューから外し、別業務に回してください"
        ),
        evidence=tuple(_flag_evidence(call, hits) for call, hits in found),
    )


def _pair_handling(index: _Index, now: datetime, p: WellbeingPolicy) -> list[Recommendation]:
    by_caller: dict[str, list[tuple[CallRecord, list[FlagRecord]]]] = {}
    lo = now - p.pair_window
    for call, hits in index.flagged(index.calls.values(), lo, now):
        if call.caller_key is not None:
            by_caller.setdefault(call.caller_key, []).append((call, hits))
    found = []
    for caller, items in sorted(by_caller.items()):
        items.sort(key=lambda ch: (ch[0].started_at, ch[0].call_id))
        worst = max(f.severity for _, hits in items for f in hits)
        repeated = len(items) >= p.pair_flagged_calls
        severe = worst >= p.pair_severity
        if not (repeated or severe):
            continue
        days = p.pair_window.days or p.pair_window.total_seconds() / 86400
        why = (
            f"直近{days:g}日でカスハラのあった通話が{len(items)}件"
            if repeated
            else f"{SEVERITY_LABELS[worst]}のカスハラがありました"
        )
        found.append(
            Recommendation(
                kind="pair_handling",
                caller_key=caller,
                reason=f"このお客様は{why}。次回の対応はペア対応(SVの同席・モニタリング)で行ってください",
                evidence=tuple(_flag_evidence(call, hits) for call, hits in items),
            )
        )
    return found


def _silent_sos(
    index: _Index, operator: str, now: datetime, p: WellbeingPolicy
) -> Recommendation | None:
    lo = now - p.sos_window
    calls = [
        c for c in index.by_operator.get(operator, ()) if c.end(now) >= lo and c.started_at <= now
    ]
    flagged = index.flagged(calls, lo, now)
    long_calls = [c for c in calls if c.minutes(now) >= p.sos_long_call_minutes]
    gaps: list[tuple[CallRecord, float]] = []
    for before, after in itertools.pairwise(calls):
        if before.ended_at is None:
            continue
        gap = (after.started_at - before.ended_at).total_seconds()
        if 0 <= gap < p.sos_short_gap_seconds:
            gaps.append((after, gap))
    signals = []
    evidence: dict[str, Evidence] = {}
    if len(flagged) >= p.sos_flagged_calls:
        signals.append(f"カスハラ通話{len(flagged)}件")
        for call, hits in flagged:
            evidence[call.call_id] = _flag_evidence(call, hits)
    if len(long_calls) >= p.sos_long_calls:
        signals.append(f"{p.sos_long_call_minutes:g}分以上の長時間通話{len(long_calls)}件")
        for call in long_calls:
            evidence.setdefault(
                call.call_id,
                Evidence(
                    call.call_id,
                    call.started_at,
                    call.ended_at,
                    f"長時間通話 {call.minutes(now):.0f}分",
                ),
            )
    if len(gaps) >= p.sos_short_gaps:
        signals.append(f"後処理の間隔が{p.sos_short_gap_seconds:g}秒未満の連続着信{len(gaps)}回")
        for call, gap in gaps:
            evidence.setdefault(
                call.call_id,
                Evidence(
                    call.call_id, call.started_at, call.ended_at, f"前の通話から{gap:.0f}秒で着信"
                ),
            )
    if len(signals) < p.sos_min_signals:
        return None
    hours = p.sos_window.total_seconds() / 3600
    return Recommendation(
        kind="silent_sos",
        operator_id=operator,
        reason=(
            f"声なきSOS: 直近{hours:g}時間で{'、'.join(signals)}。"
            "本人からの申し出はありませんが、SVから声をかけてください"
        ),
        evidence=tuple(sorted(evidence.values(), key=lambda e: (e.started_at, e.call_id))),
        signals=tuple(signals),
    )


def recommendations(
    calls: Sequence[CallRecord],
    flags: Sequence[FlagRecord],
    *,
    now: datetime,
    breaks: Sequence[BreakRecord] = (),
    policy: WellbeingPolicy | None = None,
) -> tuple[Recommendation, ...]:
    """Every rule for every operator and caller at ``now``: operators first, by id and kind."""
    _aware(now, "now")
    p = policy or WellbeingPolicy()
    index = _Index(calls, flags)
    found: list[Recommendation] = []
    for operator in sorted(index.by_operator):
        for rec in (
            _cooldown(index, operator, breaks, now, p),
            _rotation(index, operator, now, p),
            _silent_sos(index, operator, now, p),
        ):
            if rec is not None:
                found.append(rec)
    found.extend(_pair_handling(index, now, p))
    return tuple(found)


# -- the supervisor's view ---------------------------------------------------------------------

_URGENCY: dict[str, int] = {"silent_sos": 0, "cooldown": 1, "rotation": 2, "pair_handling": 3}


@dataclass(frozen=True)
class OperatorCare:
    operator_id: str
    exposures: tuple[Exposure, ...]
    recommendations: tuple[Recommendation, ...]

    @property
    def needs_care(self) -> bool:
        return bool(self.recommendations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "operator_id": self.operator_id,
            "needs_care": self.needs_care,
            "exposures": [e.to_dict() for e in self.exposures],
            "recommendations": [r.to_dict() for r in self.recommendations],
        }


@dataclass(frozen=True)
class CareBoard:
    """What a supervisor sees: operators who need care first, then callers needing ペア対応.
    Built only from calls, flags and breaks: no stress-check data can reach it."""

    generated_at: datetime
    operators: tuple[OperatorCare, ...]
    callers: tuple[Recommendation, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "operators": [o.to_dict() for o in self.operators],
            "callers": [c.to_dict() for c in self.callers],
        }


def care_board(
    calls: Sequence[CallRecord],
    flags: Sequence[FlagRecord],
    *,
    now: datetime,
    breaks: Sequence[BreakRecord] = (),
    policy: WellbeingPolicy | None = None,
) -> CareBoard:
    """Who needs care now: operators with recommendations first (silent SOS, then cool-down,
    then rotation), then by worst recent severity and exposure."""
    p = policy or WellbeingPolicy()
    recs = recommendations(calls, flags, now=now, breaks=breaks, policy=p)
    index = _Index(calls, flags)
    rows = []
    for operator in sorted(index.by_operator):
        mine = tuple(
            sorted((r for r in recs if r.operator_id == operator), key=lambda r: _URGENCY[r.kind])
        )
        exposures = tuple(_exposure(index, operator, now, w) for w in p.exposure_windows)
        rows.append(OperatorCare(operator, exposures, mine))

    def urgency(row: OperatorCare) -> tuple[int, int, float, str]:
        first = min((_URGENCY[r.kind] for r in row.recommendations), default=len(_URGENCY))
        recent = row.exposures[0] if row.exposures else None
        severity = recent.max_severity if recent else 0
        minutes = recent.flagged_minutes if recent else 0.0
        return first, -severity, -minutes, row.operator_id

    return CareBoard(
        generated_at=now,
        operators=tuple(sorted(rows, key=urgency)),
        callers=tuple(r for r in recs if r.kind == "pair_handling"),
    )


__all__ = [
    "CATEGORY_LABELS",
    "SEVERITY_BY_CATEGORY",
    "SEVERITY_LABELS",
    "SEVERITY_MAX",
    "SEVERITY_MIN",
    "BreakRecord",
    "CallRecord",
    "CareBoard",
    "Evidence",
    "Exposure",
    "FlagRecord",
    "OperatorCare",
    "Recommendation",
    "RecommendationKind",
    "WellbeingError",
    "WellbeingPolicy",
    "care_board",
    "exposure",
    "flag_severity",
    "recommendations",
]
