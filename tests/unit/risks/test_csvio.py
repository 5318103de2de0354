"""CSV parsing and writing of the risk register, without a database."""

from __future__ import annotations

from datetime import date

from hikeshi.risks import csvio
from hikeshi.risks.models import DEFAULT_CATEGORIES

PLAYBOOKS = {"recall": "製品リコール", "data_breach": "個人情報の漏えい"}
HEADER = "タイトル,カテゴリ,発生可能性,影響度,担当者,見直し日,対応フロー,備考\r\n"


def parse(text: str | bytes) -> csvio.ParseResult:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return csvio.parse(data, categories=DEFAULT_CATEGORIES, playbooks=PLAYBOOKS)


def errors(result: csvio.ParseResult) -> list[tuple[int, str]]:
    return [(e.line, e.column) for e in result.errors]


def test_happy_path_reads_every_column() -> None:
    result = parse(
        HEADER
        + "発火事故によるリコール,技術的,2,5,品質保証部,2026/12/1,recall,年1回見直し\r\n"
        + "顧客情報の流出,情報セキュリティ,３,４,,,個人情報の漏えい,\r\n"
    )
    assert result.errors == []
    first, second = result.rows
    assert first.title == "発火事故によるリコール"
    assert (first.likelihood, first.impact) == (2, 5)
    assert first.review_date == date(2026, 12, 1)
    assert first.playbook_id == "recall" and first.notes == "年1回見直し"
    # Full-width digits, empty optional cells, a playbook named by its title.
    assert (second.likelihood, second.impact) == (3, 4)
    assert second.review_date is None and second.owner == ""
    assert second.playbook_id == "data_breach"


def test_english_headers_in_any_order_and_the_priority_column_is_ignored() -> None:
    result = parse("impact,Title,priority,likelihood,category\n4,SNS炎上,高,3,評判\n")
    assert result.errors == []
    assert result.rows[0].title == "SNS炎上" and result.rows[0].impact == 4


def test_every_bad_row_is_reported_by_line_and_column() -> None:
    result = parse(
        HEADER
        + "良い行,技術的,1,1,,,,\r\n"  # line 2: fine
        + ",技術的,6,0,,2026-13-01,,\r\n"  # line 3: four errors
        + "カテゴリ違い,天災,3,3,,,unknown_pack,\r\n"  # line 4: two errors
        + "\r\n"  # line 5: blank, skipped
        + "余分な列,評判,3,3,,,,,おまけ\r\n"  # line 6: a value beyond the header
    )
    assert errors(result) == [
        (3, "タイトル"),
        (3, "発生可能性"),
        (3, "影響度"),
        (3, "見直し日"),
        (4, "カテゴリ"),
        (4, "対応フロー"),
        (6, "9列目"),
    ]
    messages = {(e.line, e.column): e.message for e in result.errors}
    assert messages[(3, "タイトル")] == "必須項目です"
    assert "1〜5" in messages[(3, "発生可能性")]
    assert "天災" in messages[(4, "カテゴリ")]


def test_error_columns_use_the_header_as_written() -> None:
    result = parse("title,category,likelihood,impact\nx,技術的,9,1\n")
    assert errors(result) == [(2, "likelihood")]


def test_line_numbers_count_multiline_cells() -> None:
    result = parse(HEADER + '一行目,技術的,1,1,,,,"備考が\n二行に"\n' + "次の行,技術的,x,1,,,,\n")
    assert errors(result) == [(4, "発生可能性")]


def test_header_problems_stop_before_the_rows() -> None:
    result = parse("タイトル,発生可能性,影響度,色\nx,1,1,赤\n")
    assert errors(result) == [(1, "色"), (1, "カテゴリ")]
    assert result.rows == []


def test_bom_and_shift_jis_are_read() -> None:
    row = "見直し会議,オペレーショナル,2,3,センター長,2027-01-15,,\r\n"
    bom = parse(("\ufeff" + HEADER + row).encode("utf-8"))
    sjis = parse((HEADER + row).encode("cp932"))
    assert bom.errors == [] and sjis.errors == []
    assert bom.rows == sjis.rows
    assert sjis.rows[0].category == "オペレーショナル"


def test_undecodable_and_empty_files() -> None:
    assert errors(parse(b"\xff\xfe\x00\x81\x00")) == [(0, "")]
    assert errors(parse(HEADER)) == [(2, "")]
    assert errors(parse("")) == [(1, "")]


def test_write_then_parse_round_trips_and_neutralises_formulas() -> None:
    data = csvio.write(
        [
            [
                '=HYPERLINK("x")',
                "技術的",
                "1",
                "2",
                "低",
                "-担当",
                "2026-12-01",
                "recall",
                "改行\nあり",
            ],
        ]
    )
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert (
        text.splitlines()[0]
        == "タイトル,カテゴリ,発生可能性,影響度,優先度,担当者,見直し日,対応フロー,備考"
    )
    assert "'=HYPERLINK" in text and ",'-担当," in text
    (row,) = parse(data).rows
    assert row.title == '=HYPERLINK("x")' and row.owner == "-担当"
    assert row.notes == "改行\nあり" and row.review_date == date(2026, 12, 1)
