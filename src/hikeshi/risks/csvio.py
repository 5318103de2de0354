"""CSV in and out of the risk register, as pure functions (no database, no web).

The file has one header row naming its columns, in Japanese or English, in any order:

======== ================= ===========================================================
日本語     English           value
======== ================= ===========================================================
タイトル   title             required, up to 200 characters
カテゴリ   category          required, one of the organisation's categories
発生可能性 likelihood        required, 1–5 (full-width digits are fine)
影響度     impact            required, 1–5
担当者     owner             optional, up to 200 characters
見直し日   review_date       optional, 2026-12-01 or 2026/12/1
対応フロー playbook_id       optional, a playbook pack id (or its exact title)
備考       notes             optional, up to 4000 characters
優先度     priority          written on export, ignored on import (the matrix decides)
======== ================= ===========================================================

Input is UTF-8 with or without a BOM (Excel writes one), or Shift_JIS (cp932) when it is not
UTF-8. Every row is checked before anything is written; :func:`parse` returns either the rows
or every error as (line, column, message) — line numbers are those of the file, header = 1.
Export writes UTF-8 with a BOM and CRLF line ends so that Excel opens it as is, and prefixes a
``'`` to cells that a spreadsheet would run as a formula (stripped again on import).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from hikeshi.risks.schemas import RiskCreate

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    ja: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_length: int | None = None


COLUMNS: tuple[Column, ...] = (
    Column("title", "タイトル", ("title", "件名", "リスク"), required=True, max_length=200),
    Column("category", "カテゴリ", ("category", "カテゴリー", "分類"), required=True),
    Column("likelihood", "発生可能性", ("likelihood",), required=True),
    Column("impact", "影響度", ("impact",), required=True),
    Column("owner", "担当者", ("owner",), max_length=200),
    Column("review_date", "見直し日", ("review_date", "review date", "reviewdate")),
    Column("playbook_id", "対応フロー", ("playbook_id", "playbook", "プレイブック")),
    Column("notes", "備考", ("notes", "note", "メモ"), max_length=4000),
)
COLUMNS_BY_KEY = {c.key: c for c in COLUMNS}
# Written on export for people reading the file; never read back.
IGNORED_HEADERS = frozenset({"優先度", "priority", "id", "番号"})
EXPORT_HEADER = (
    "タイトル",
    "カテゴリ",
    "発生可能性",
    "影響度",
    "優先度",
    *(c.ja for c in COLUMNS[4:]),
)


@dataclass(frozen=True)
class CsvError:
    line: int
    column: str
    message: str

    def as_dict(self) -> dict[str, int | str]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class ParseResult:
    rows: list[RiskCreate] = field(default_factory=list)
    errors: list[CsvError] = field(default_factory=list)


def _norm_header(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower().replace("　", " ")


_HEADER_LOOKUP: dict[str, Column] = {}
for _column in COLUMNS:
    for _name in (_column.ja, _column.key, *_column.aliases):
        _HEADER_LOOKUP[_norm_header(_name)] = _column


def decode(data: bytes) -> str:
    """UTF-8 (BOM stripped), else cp932; raises ``UnicodeDecodeError`` when it is neither."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp932")


def _unescape(value: str) -> str:
    if len(value) >= 2 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def _escape(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _score(raw: str) -> int | None:
    text = unicodedata.normalize("NFKC", raw).strip()
    if text.isdecimal() and 1 <= int(text) <= 5:
        return int(text)
    return None


_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


def _date(raw: str) -> date | None:
    match = _DATE.match(unicodedata.normalize("NFKC", raw).strip())
    if not match:
        raise ValueError(raw)
    year, month, day = (int(g) for g in match.groups())
    return date(year, month, day)


def _resolve_playbook(raw: str, playbooks: Mapping[str, str]) -> str | None:
    if raw in playbooks:
        return raw
    by_title = [pid for pid, title in playbooks.items() if title == raw]
    return by_title[0] if len(by_title) == 1 else None


def _read_header(
    header: Sequence[str],
) -> tuple[dict[int, Column], dict[str, str], list[CsvError]]:
    """Index → column, key → header as written, and the header's errors (line 1)."""
    index: dict[int, Column] = {}
    written: dict[str, str] = {}
    errors: list[CsvError] = []
    for i, name in enumerate(header):
        cleaned = name.strip()
        norm = _norm_header(cleaned)
        if not norm or norm in IGNORED_HEADERS:
            continue
        column = _HEADER_LOOKUP.get(norm)
        if column is None:
            errors.append(CsvError(1, cleaned, f"不明な列名です（{i + 1}列目）"))
        elif column.key in written:
            errors.append(CsvError(1, cleaned, f"列「{column.ja}」が重複しています"))
        else:
            index[i] = column
            written[column.key] = cleaned
    for column in COLUMNS:
        if column.required and column.key not in written:
            errors.append(CsvError(1, column.ja, f"必須の列「{column.ja}」がありません"))
    return index, written, errors


def _check_row(
    line: int,
    values: dict[str, str],
    written: Mapping[str, str],
    *,
    categories: Sequence[str],
    playbooks: Mapping[str, str],
) -> tuple[RiskCreate | None, list[CsvError]]:
    found: list[tuple[str, str]] = []

    def err(key: str, message: str) -> None:
        found.append((key, message))

    for column in COLUMNS:
        value = values.get(column.key, "")
        if column.required and not value:
            err(column.key, "必須項目です")
        elif column.max_length is not None and len(value) > column.max_length:
            err(column.key, f"{column.max_length}文字以内で入力してください（{len(value)}文字）")
    category = unicodedata.normalize("NFKC", values.get("category", ""))
    known = {unicodedata.normalize("NFKC", c): c for c in categories}
    if category and category not in known:
        err("category", f"カテゴリ「{category}」は登録されていません（{'、'.join(categories)}）")
    scores: dict[str, int | None] = {}
    for key in ("likelihood", "impact"):
        raw = values.get(key, "")
        scores[key] = _score(raw) if raw else None
        if raw and scores[key] is None:
            err(key, f"1〜5の整数で入力してください（「{raw}」）")
    review: date | None = None
    if raw_date := values.get("review_date", ""):
        try:
            review = _date(raw_date)
        except ValueError:
            err("review_date", f"日付は 2026-12-01 の形式で入力してください（「{raw_date}」）")
    playbook: str | None = None
    if raw_pb := values.get("playbook_id", ""):
        playbook = _resolve_playbook(raw_pb, playbooks)
        if playbook is None:
            err("playbook_id", f"対応フロー「{raw_pb}」が見つかりません")
    if found:
        order = list(COLUMNS_BY_KEY)
        found.sort(key=lambda item: order.index(item[0]))  # stable: left to right
        return None, [
            CsvError(line, written.get(key, COLUMNS_BY_KEY[key].ja), message)
            for key, message in found
        ]
    likelihood, impact = scores["likelihood"], scores["impact"]
    assert likelihood is not None and impact is not None
    row = RiskCreate(
        title=values["title"],
        category=known[category],
        likelihood=likelihood,
        impact=impact,
        owner=values.get("owner", ""),
        review_date=review,
        playbook_id=playbook,
        notes=values.get("notes", ""),
    )
    return row, []


def parse(data: bytes, *, categories: Sequence[str], playbooks: Mapping[str, str]) -> ParseResult:
    """Every row checked; ``result.errors`` empty means every row in ``result.rows`` is valid.

    ``playbooks`` maps pack id to title; ``categories`` are the organisation's categories.
    """
    result = ParseResult()
    if len(data) > MAX_BYTES:
        result.errors.append(
            CsvError(0, "", f"ファイルが大きすぎます（上限 {MAX_BYTES // 1024 // 1024}MB）")
        )
        return result
    try:
        text = decode(data)
    except UnicodeDecodeError:
        result.errors.append(
            CsvError(
                0, "", "文字コードを判別できません（UTF-8 または Shift_JIS で保存してください）"
            )
        )
        return result
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            result.errors.append(CsvError(1, "", "見出し行がありません"))
            return result
        index, written, header_errors = _read_header(header)
        if header_errors:
            result.errors.extend(header_errors)
            return result
        line = reader.line_num + 1
        count = 0
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue  # blank lines and Excel's trailing ",,,,"
            count += 1
            if count > MAX_ROWS:
                result.errors.append(
                    CsvError(start, "", f"行数が上限（{MAX_ROWS}行）を超えています")
                )
                break
            extra = [i for i, c in enumerate(cells) if i >= len(header) and c.strip()]
            if extra:
                result.errors.append(
                    CsvError(start, f"{extra[0] + 1}列目", "見出しのない列に値があります")
                )
            values = {
                column.key: _unescape(cells[i].strip()) if i < len(cells) else ""
                for i, column in index.items()
            }
            row, errors = _check_row(
                start, values, written, categories=categories, playbooks=playbooks
            )
            result.errors.extend(errors)
            if row is not None and not extra:
                result.rows.append(row)
    except csv.Error as exc:
        result.errors.append(
            CsvError(reader.line_num, "", f"CSV の形式が正しくありません（{exc}）")
        )
    if not result.rows and not result.errors:
        result.errors.append(CsvError(2, "", "データ行がありません"))
    return result


def write(rows: Iterable[Sequence[str]]) -> bytes:
    """UTF-8 with BOM, CRLF, the export header first; formula-like cells are neutralised."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for row in rows:
        writer.writerow([_escape(cell) for cell in row])
    return (BOM + out.getvalue()).encode("utf-8")
