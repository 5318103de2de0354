"""Broken packs are refused with the file, line and field of every error."""

from __future__ import annotations

from pathlib import Path

import pytest

from hikeshi.playbooks import (
    PackValidationError,
    discover_packs,
    load_pack,
    validate_command,
    validate_path,
)

from .helpers import copy_pack, edit, line_of, only

SMS_LINE = "  sms:\n    body: "


def test_wrong_field_names_file_line_and_field(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    notices = pack / "notices.yaml"
    edit(notices, SMS_LINE, "  sms:\n    bdy: ")
    errors = validate_path(pack)
    unknown = only(errors, "notices.sms.bdy")
    assert unknown.file == notices
    assert unknown.line == line_of(notices, "bdy:")
    assert unknown.column == 5
    assert "unknown field 'bdy'" in unknown.message
    assert "did you mean 'body'" in unknown.message
    missing = only(errors, "notices.sms.body")
    assert missing.line == line_of(notices, "  sms:")
    assert "missing required field 'body'" in missing.message


def test_wrong_top_level_field_in_pack_yaml(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "pack.yaml", "\ntitle: ", "\ntitel: ")
    errors = validate_path(pack)
    error = only(errors, "titel")
    assert (error.file, error.line, error.column) == (
        pack / "pack.yaml",
        line_of(pack / "pack.yaml", "titel:"),
        1,
    )
    assert "did you mean 'title'" in error.message
    assert only(errors, "title").message == "missing required field 'title'"


def test_undeclared_placeholder_points_at_the_placeholder(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    faq = pack / "faq.yaml"
    edit(faq, "{{ serial_location }}に、型番とあわせて", "{{ serial_locaton }}に、型番とあわせて")
    error = only(validate_path(pack), "faq.1.answer")
    line = line_of(faq, "serial_locaton")
    assert (error.file, error.line) == (faq, line)
    assert error.column == faq.read_text("utf-8").splitlines()[line - 1].index("serial_locaton") + 1
    assert error.message == "placeholder 'serial_locaton' is not declared in parameters"


def test_undeclared_placeholder_inside_a_block_scalar(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    notices = pack / "notices.yaml"
    old = "販売期間：{{ sales_period }}\n      対象台数：{{ affected_units | num }}台\n      型番・"
    edit(notices, old, old.replace("sales_period", "sale_period"))
    error = only(validate_path(pack), "notices.web.body")
    assert error.line == line_of(notices, "sale_period")
    assert "'sale_period'" in error.message


def test_template_syntax_error_is_refused(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    notices = pack / "notices.yaml"
    edit(notices, "】{{ product_name }}に{{ hazard }}。", "】{{ product_name }}に{{ hazard }。")
    error = only(validate_path(pack), "notices.sms.body")
    assert error.line == line_of(notices, "{{ hazard }。")
    assert error.message.startswith("template does not parse")


def test_unknown_filter_is_refused(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    old = "{{ affected_units | num }}台\n      型番・"
    edit(pack / "notices.yaml", old, old.replace("num", "nmu"))
    error = only(validate_path(pack), "notices.web.body")
    assert "nmu" in error.message


def test_sms_over_70_characters_after_rendering(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    notices = pack / "notices.yaml"
    edit(
        notices,
        "使用を中止し無償交換をお申込みください",
        "使用を中止し、お早めに無償交換をお申込みくださいますようお願いします",
    )
    error = only(validate_path(pack), "notices.sms.body")
    assert error.file == notices
    assert error.line == line_of(notices, "お早めに")
    assert error.column == 11
    assert error.message.startswith("SMS is 83 characters (limit 70)")
    assert str(error).startswith(
        f"{notices}:{error.line}:11: notices.sms.body: SMS is 83 characters"
    )


def test_sns_over_140_characters_after_rendering(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path, "outage")
    notices = pack / "notices.yaml"
    edit(
        notices,
        "最新の状況はこちら {{ short_url }}",
        "最新の状況は障害情報ページで随時お知らせいたします {{ web_url }}",
    )
    error = only(validate_path(pack), "notices.sns.body")
    assert error.line == line_of(notices, "随時お知らせいたします {{ web_url }}")
    assert "SNS post is" in error.message and "(limit 140)" in error.message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "pack.yaml", "title: 製品リコール", "title: [製品リコール")
    errors = validate_path(pack)
    assert len(errors) == 1
    assert errors[0].file == pack / "pack.yaml"
    assert errors[0].line >= line_of(pack / "pack.yaml", "title: [")
    assert errors[0].field == ""
    assert errors[0].message.startswith("YAML syntax error")


def test_unquoted_placeholder_is_a_yaml_error_with_its_line(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    faq = pack / "faq.yaml"
    edit(faq, 'answer: "{{ serial_location }}に', "answer: {{ serial_location }}に")
    (error,) = validate_path(pack)
    assert error.file == faq
    assert error.line == line_of(faq, "answer: {{ serial_location }}に")


def test_too_few_faq_entries(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    faq = pack / "faq.yaml"
    text = faq.read_text("utf-8")
    faq.write_text(text[: text.index("  - id: no_receipt")], "utf-8")
    error = only(validate_path(pack), "faq")
    assert (error.file, error.line) == (faq, line_of(faq, "faq:"))
    assert "at least 12 items" in error.message


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "pack.yaml", "    priority: P1\n  - id: injury", "    priority: P0\n  - id: injury")
    edit(pack / "notices.yaml", "使用を中止し無償交換", "直ちに使用を中止して無償交換を")
    edit(pack / "faq.yaml", "{{ hazard }}がございますため", "{{ hazzard }}がございますため")
    fields = {e.field for e in validate_path(pack)}
    assert {"escalation_rules.0.priority", "notices.sms.body", "faq.2.answer"} <= fields


def test_literal_error_shows_the_wrong_value(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "pack.yaml", "    priority: P1\n  - id: injury", "    priority: P0\n  - id: injury")
    error = only(validate_path(pack), "escalation_rules.0.priority")
    assert error.line == line_of(pack / "pack.yaml", "priority: P0")
    assert "'P1', 'P2' or 'P3'" in error.message and "(got 'P0')" in error.message


def test_bad_parameter_example(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "pack.yaml", 'example: "2025-04-01"', 'example: "2025-13-01"')
    error = only(validate_path(pack), "parameters.16.example")
    assert "not a date" in error.message


def test_condition_needs_exactly_one_test(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(
        pack / "pack.yaml",
        "      anger_level_at_least: 4\n",
        "      anger_level_at_least: 4\n      repeat_contacts_over: 2\n",
    )
    error = only(validate_path(pack), "escalation_rules.7.when")
    assert "exactly one of" in error.message


def test_escalation_target_must_be_a_known_department(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "pack.yaml", "    to: department:広報\n", "    to: department:営業\n")
    error = only(validate_path(pack), "escalation_rules.2.to")
    assert error.line == line_of(pack / "pack.yaml", "department:営業")


def test_roster_must_cover_the_required_departments(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path, "outage")
    pack_yaml = pack / "pack.yaml"
    text = pack_yaml.read_text("utf-8")
    start = text.index("  - department: 人事")
    end = text.index("  - department: 経理")
    pack_yaml.write_text(text[:start] + text[end:], "utf-8")
    error = only(validate_path(pack), "roster")
    assert error.line == line_of(pack_yaml, "roster:")
    assert "人事" in error.message


def test_approver_must_be_in_the_roster(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path, "outage")
    edit(pack / "notices.yaml", "  sms:\n", "  sms:\n    approvers: [広報, お客様相談室]\n")
    error = only(validate_path(pack), "notices.sms.approvers.1")
    assert "お客様相談室" in error.message


def test_placeholders_only_in_template_fields(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "faq.yaml", "tags: [送料, 費用]", 'tags: [送料, "{{ product_name }}"]')
    error = only(validate_path(pack), "faq.5.tags.1")
    assert error.message == "placeholders are not allowed in this field"


def test_duplicate_ids_and_keys(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "faq.yaml", "  - id: costs\n", "  - id: keep_using\n")
    edit(pack / "pack.yaml", "incident_type: recall\n", "incident_type: recall\nversion: '2.0.0'\n")
    errors = validate_path(pack)
    assert only(errors, "version").message == "duplicate key"  # YAML problems come first
    edit(pack / "pack.yaml", "incident_type: recall\nversion: '2.0.0'\n", "incident_type: recall\n")
    assert "duplicate id 'keep_using'" in only(validate_path(pack), "faq.5.id").message


def test_key_defined_in_two_files(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    (pack / "extra.yaml").write_text("title: もうひとつのタイトル\n", "utf-8")
    (error,) = validate_path(pack)
    assert (error.file, error.line, error.field) == (pack / "extra.yaml", 1, "title")
    assert "already defined at pack.yaml" in error.message


def test_id_must_match_directory(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    renamed = pack.rename(tmp_path / "recall_food")
    error = only(validate_path(renamed), "id")
    assert "must equal its directory name 'recall_food'" in error.message


def test_version_must_be_semver(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "pack.yaml", 'version: "1.0.0"', "version: 1.0")
    error = only(validate_path(pack), "version")
    assert error.line == line_of(pack / "pack.yaml", "version: 1.0")


def test_missing_paths(tmp_path: Path) -> None:
    (error,) = validate_path(tmp_path / "nope")
    assert error.message == "no such file or directory"
    (error,) = validate_path(tmp_path)
    assert "no pack.yaml" in error.message


def test_load_pack_raises_with_all_errors(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "notices.yaml", SMS_LINE, "  sms:\n    bdy: ")
    with pytest.raises(PackValidationError) as caught:
        load_pack(pack)
    assert len(caught.value.errors) == 2
    assert caught.value.code == "playbook.invalid"


def test_validate_command_reports_and_fails(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "notices.yaml", SMS_LINE, "  sms:\n    bdy: ")
    code, lines = validate_command([pack / "pack.yaml"])
    assert code == 1
    assert any("notices.yaml" in line and "notices.sms.bdy" in line for line in lines)
    assert lines[-1] == "2 error(s) in 1 pack(s)"
    assert validate_command([])[0] == 2


def test_discover_lets_a_user_pack_replace_a_shipped_one(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "pack.yaml", 'version: "1.0.0"', 'version: "1.1.0"')
    assert discover_packs([tmp_path])["recall"].version == "1.1.0"
    edit(pack / "pack.yaml", "\ntitle: ", "\ntitel: ")
    with pytest.raises(PackValidationError):
        discover_packs([tmp_path])


def test_single_file_pack(tmp_path: Path) -> None:
    file = tmp_path / "mini.yaml"
    file.write_text("id: mini\nversion: '0.1.0'\nincident_type: outage\n", "utf-8")
    errors = validate_path(file)
    assert {e.file for e in errors} == {file}
    assert "title" in {e.field for e in errors}
