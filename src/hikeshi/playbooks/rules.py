"""Evaluating a pack's escalation rules against what is known about a contact.

Pure functions: the escalation and triage modules gather the facts (text of the contact, its
classification, the amount asked for, repeat count, anger level, harassment categories) and ask
which rules fire. Keywords match as substrings after NFKC normalisation and case folding, so
half-width ｾｷﾆﾝｼｬ matches セキニンシャ and ＳＮＳ matches sns.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from hikeshi.playbooks.schemas import (
    Classification,
    Condition,
    EscalationRule,
    HarassmentCategory,
)


@dataclass(frozen=True)
class ContactFacts:
    text: str = ""
    classification: Classification | None = None
    amount_yen: int | None = None
    repeat_contacts: int = 0
    anger_level: int = 0  # 0 = unknown, 1 (calm) … 5 (furious)
    harassment: frozenset[HarassmentCategory] = field(default_factory=frozenset)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def matched_keywords(condition: Condition, text: str) -> list[str]:
    """The keywords of an ``any_keywords`` condition found in ``text`` (for showing why)."""
    haystack = _normalise(text)
    return [k for k in condition.any_keywords or () if _normalise(k) in haystack]


def matches(condition: Condition, facts: ContactFacts) -> bool:
    if condition.all is not None:
        return all(matches(c, facts) for c in condition.all)
    if condition.any is not None:
        return any(matches(c, facts) for c in condition.any)
    if condition.any_keywords is not None:
        return bool(matched_keywords(condition, facts.text))
    if condition.classification_in is not None:
        return facts.classification in condition.classification_in
    if condition.harassment_in is not None:
        return bool(facts.harassment & set(condition.harassment_in))
    if condition.amount_over_yen is not None:
        return facts.amount_yen is not None and facts.amount_yen > condition.amount_over_yen
    if condition.repeat_contacts_over is not None:
        return facts.repeat_contacts > condition.repeat_contacts_over
    if condition.anger_level_at_least is not None:
        return facts.anger_level >= condition.anger_level_at_least
    raise AssertionError(f"condition with no test: {condition!r}")  # the schema forbids this


def matching_rules(rules: Iterable[EscalationRule], facts: ContactFacts) -> list[EscalationRule]:
    """The rules that fire, most urgent first (P1 before P2 before P3; pack order within)."""
    return sorted((r for r in rules if matches(r.when, facts)), key=lambda r: r.priority)
