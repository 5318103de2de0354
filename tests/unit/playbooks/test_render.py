from __future__ import annotations

from datetime import date

import pytest

from hikeshi.playbooks import BUILTIN_PACKS_DIR, RenderError, load_pack, render, render_pack
from hikeshi.playbooks.render import TEMPLATE_FIELDS, is_template_field, walk_strings
from hikeshi.playbooks.values import JpDate, coerce_value

RECALL = BUILTIN_PACKS_DIR / "recall"


def _recall_params(**overrides: object) -> dict[str, object]:
    pack = load_pack(RECALL)
    params: dict[str, object] = {p.name: p.example for p in pack.parameters}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def test_render_fills_placeholders() -> None:
    assert render("{{ a }}様、{{ n | num }}件", {"a": "山田", "n": 12000}) == "山田様、12,000件"


def test_render_names_the_missing_parameter() -> None:
    with pytest.raises(RenderError) as caught:
        render("{{ product_name }}をお使いの{{ company_name }}のお客様へ", {"company_name": "A社"})
    assert "product_name" in caught.value.message_en
    assert caught.value.fields["parameters"] == ["product_name"]


def test_render_is_sandboxed() -> None:
    with pytest.raises(RenderError):
        render("{{ x.__class__.__mro__ }}", {"x": "a"})
    with pytest.raises(RenderError):
        render("{{ x.__init__.__globals__ }}", {"x": render})


def test_dates_print_in_japanese() -> None:
    d = coerce_value("date", "2025-04-01")
    assert isinstance(d, JpDate)
    assert render("{{ d }}", {"d": d}) == "2025年4月1日"
    assert render("{{ d | jdate(weekday=True) }}", {"d": date(2025, 4, 1)}) == "2025年4月1日（火）"


def test_render_pack_names_the_missing_required_parameter() -> None:
    params = _recall_params()
    del params["hotline"]
    with pytest.raises(RenderError) as caught:
        render_pack(load_pack(RECALL), params)
    assert caught.value.fields == {"parameters": ["hotline"]}
    assert "hotline" in caught.value.message_en
    assert "専用窓口の電話番号（hotline）" in caught.value.message_ja


def test_render_pack_refuses_unknown_parameters() -> None:
    with pytest.raises(RenderError) as caught:
        render_pack(load_pack(RECALL), _recall_params(hotine="0120-000-000"))
    assert "hotine" in caught.value.message_en


def test_render_pack_refuses_a_badly_typed_value() -> None:
    with pytest.raises(RenderError) as caught:
        render_pack(load_pack(RECALL), _recall_params(announce_date="4月1日"))
    assert caught.value.fields == {"parameter": "announce_date"}


def test_render_pack_refuses_an_sms_over_70_characters() -> None:
    long_name = "コードレス電気ケトル「ゆわかし名人プレミアム」ステンレスモデル"
    with pytest.raises(RenderError) as caught:
        render_pack(load_pack(RECALL), _recall_params(product_name=long_name))
    assert caught.value.fields["field"] == "notices.sms.body"
    assert caught.value.fields["length"] > 70
    assert "SMS is" in caught.value.message_en


def test_render_pack_fills_every_template() -> None:
    rendered = render_pack(
        load_pack(RECALL),
        _recall_params(serial_ranges=["A0001〜A0500", {"start": "B0001", "end": "B0100"}]),
    )
    assert "A0001〜A0500、B0001〜B0100" in rendered.faq[0].answer
    assert "ロット番号が23A、23Bの製品も対象" in rendered.faq[0].answer
    assert rendered.notices.web.title.startswith("【重要】電気ケトル「ゆわかし名人」")
    assert "48,000台" in rendered.notices.press_release.body
    assert rendered.params["announce_date"] == "2025年4月1日"
    assert [a.value for a in rendered.notices.web.approvers] == ["広報", "法務"]


def test_optional_parameter_left_out_drops_its_sentence() -> None:
    rendered = render_pack(load_pack(RECALL), _recall_params(lots=None))
    assert "ロット" not in rendered.faq[0].answer
    assert "ロット番号" not in rendered.notices.web.body


def test_template_fields_cover_every_placeholder_in_the_shipped_packs() -> None:
    pack = load_pack(RECALL)
    in_templates = [loc for loc, text in walk_strings(pack.model_dump()) if "{{" in text]
    assert in_templates and all(is_template_field(loc) for loc in in_templates)
    assert ("notices", "*", "body") in TEMPLATE_FIELDS
