from __future__ import annotations

import re
from pathlib import Path

import pytest

import hikeshi.playbooks as playbooks
from hikeshi.auth.enums import Department
from hikeshi.playbooks import (
    BUILTIN_PACKS_DIR,
    Pack,
    discover_packs,
    load_pack,
    render_pack,
    validate_command,
    validate_path,
)
from hikeshi.playbooks.render import walk_strings
from hikeshi.playbooks.schemas import NOTICE_CHANNELS, SMS_LIMIT, SNS_LIMIT

from .helpers import PACK_IDS


def _examples(pack: Pack, *, optional: bool = True) -> dict[str, object]:
    return {p.name: p.example for p in pack.parameters if optional or p.required}


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_shipped_pack_validates(pack_id: str) -> None:
    assert validate_path(BUILTIN_PACKS_DIR / pack_id) == []


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_shipped_pack_has_the_required_content(pack_id: str) -> None:
    pack = load_pack(BUILTIN_PACKS_DIR / pack_id)
    assert pack.id == pack.incident_type == pack_id
    assert len(pack.faq) >= 12
    assert tuple(type(pack.notices).model_fields) == NOTICE_CHANNELS
    assert Department.pr in pack.notices.sms.approvers
    assert Department.legal in pack.notices.sms.approvers
    roster = {entry.department for entry in pack.roster}
    assert {Department.pr, Department.legal, Department.executive, Department.hr} <= roster
    assert roster & {Department.quality, Department.engineering}
    assert pack.firm_responses.recording_notice
    assert pack.firm_responses.warning.line and pack.firm_responses.end_call.line
    assert 0 < pack.staffing.contact_rate <= 1
    assert "お詫び" in pack.script.opening


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_shipped_pack_is_real_japanese_text(pack_id: str) -> None:
    pack = load_pack(BUILTIN_PACKS_DIR / pack_id)
    for _, text in walk_strings(pack.model_dump(mode="json")):
        assert not re.search(r"TODO|TBD|lorem|ipsum|XXX|〇〇", text, re.IGNORECASE), text


@pytest.mark.parametrize("pack_id", PACK_IDS)
@pytest.mark.parametrize("optional", [True, False], ids=["all-params", "required-only"])
def test_shipped_pack_renders_with_its_examples(pack_id: str, optional: bool) -> None:
    pack = load_pack(BUILTIN_PACKS_DIR / pack_id)
    rendered = render_pack(pack, _examples(pack, optional=optional))
    assert len(rendered.notices.sms.body) <= SMS_LIMIT
    assert len(rendered.notices.sns.body) <= SNS_LIMIT
    for _, text in walk_strings(rendered.model_dump(mode="json")):
        assert "{{" not in text and "{%" not in text and "None" not in text, text
    assert rendered.pack_id == pack_id
    assert len(rendered.faq) == len(pack.faq)


def test_discover_finds_the_five_shipped_packs() -> None:
    packs = discover_packs()
    assert sorted(packs) == sorted(PACK_IDS)
    assert {p.incident_type for p in packs.values()} == set(PACK_IDS)


def test_validate_command_on_the_shipped_packs() -> None:
    code, lines = validate_command([BUILTIN_PACKS_DIR])
    assert code == 0
    assert lines[-1] == "5 pack(s) valid"
    assert sum(line.startswith("OK ") for line in lines) == 5


def test_public_api_is_sorted_and_importable() -> None:
    assert playbooks.__all__ == sorted(playbooks.__all__)
    for name in playbooks.__all__:
        assert getattr(playbooks, name) is not None


def test_library_stays_pure() -> None:
    source = "\n".join(p.read_text("utf-8") for p in Path(playbooks.__file__).parent.glob("*.py"))
    assert "fastapi" not in source and "sqlalchemy" not in source
