from __future__ import annotations

from hikeshi.playbooks import BUILTIN_PACKS_DIR, ContactFacts, load_pack, matches, matching_rules
from hikeshi.playbooks.schemas import Condition


def _ids(text: str = "", **facts: object) -> list[str]:
    pack = load_pack(BUILTIN_PACKS_DIR / "recall")
    return [r.id for r in matching_rules(pack.escalation_rules, ContactFacts(text=text, **facts))]  # type: ignore[arg-type]


def test_keywords_match_after_normalisation() -> None:
    condition = Condition(any_keywords=["ＳＮＳ", "セキニンシャ"])
    assert matches(condition, ContactFacts(text="snsに書くぞ"))
    assert matches(condition, ContactFacts(text="ｾｷﾆﾝｼｬを呼んで"))
    assert not matches(condition, ContactFacts(text="交換の方法を教えて"))


def test_recall_rules_route_by_urgency() -> None:
    assert _ids("ケトルから煙が出て、手にやけどをしました") == ["product_accident", "injury"]
    assert _ids("責任者を出せ", anger_level=4) == ["manager_demand", "anger"]
    assert _ids("交換の方法を教えてください", classification="inquiry") == []


def test_amount_and_classification_combine() -> None:
    assert _ids(classification="request", amount_yen=200_000) == [
        "compensation_large",
        "compensation",
    ]
    assert _ids(classification="inquiry", amount_yen=200_000) == []
    assert _ids(classification="request", amount_yen=5_000) == []


def test_harassment_and_repeat_contacts() -> None:
    assert _ids(harassment=frozenset({"threat"})) == ["harassment"]
    assert _ids(repeat_contacts=4) == ["repeat_contact"]
    assert _ids(repeat_contacts=3) == []
