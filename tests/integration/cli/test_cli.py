from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update
from typer.testing import CliRunner

from hikeshi.audit.models import AuditEvent
from hikeshi.audit.service import canonical_hash
from hikeshi.cli import app
from hikeshi.config import get_settings
from hikeshi.db import make_engine
from hikeshi.errors import DatabaseNotReady
from hikeshi.main import create_app
from tests.dbutil import tamper_mode
from tests.servers import TEST_SECRET

runner = CliRunner()


@pytest.fixture
def cli_env(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HIKESHI_DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("HIKESHI_ENVIRONMENT", "test")
    monkeypatch.setenv("HIKESHI_SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    yield fresh_db_url
    get_settings.cache_clear()


@pytest.mark.parametrize("tamper", ["edit", "insert", "delete"])
def test_audit_verify_detects_tampering(cli_env: str, tamper: str) -> None:
    result = runner.invoke(
        app,
        [
            "user",
            "create",
            "--email",
            "sv@example.jp",
            "--role",
            "supervisor",
            "--create-org",
            "acme:アクメ株式会社",
            "--password",
            "long-enough-pw",
        ],
    )
    assert result.exit_code == 0, result.output
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "chain intact" in ok.output

    engine = make_engine(cli_env)
    with engine.begin() as conn:
        tamper_mode(conn)
        seq = conn.scalar(select(AuditEvent.seq).where(AuditEvent.action == "users.create"))
        if tamper == "edit":
            conn.execute(
                update(AuditEvent)
                .where(AuditEvent.seq == seq)
                .values(after={"email": "someone-else@example.jp"})
            )
        elif tamper == "delete":
            conn.execute(delete(AuditEvent).where(AuditEvent.seq == seq))
        else:
            # A forged row slipped in after the last one, with a self-consistent hash.
            last = conn.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
            row = {
                c.name: getattr(last, c.name)
                for c in AuditEvent.__table__.columns
                if c.name != "id"
            }
            row.update(seq=last.seq + 1, action="users.delete", prev_hash=last.hash)
            row["hash"] = canonical_hash({k: v for k, v in row.items() if k != "hash"})
            conn.execute(insert(AuditEvent).values(**row))
            seq = last.seq + 1
    engine.dispose()
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1, bad.output
    expected = {"edit": "edited", "delete": "deleted", "insert": "inserted"}[tamper]
    assert f"({expected}) at seq {seq}" in bad.output


def test_user_create_reports_bad_input(cli_env: str) -> None:
    result = runner.invoke(
        app,
        [
            "user",
            "create",
            "--email",
            "not-an-email",
            "--role",
            "operator",
            "--password",
            "long-enough-pw",
        ],
    )
    assert result.exit_code == 2
    assert "メールアドレス" in result.output


def test_specialist_needs_department(cli_env: str) -> None:
    result = runner.invoke(
        app,
        [
            "user",
            "create",
            "--email",
            "legal@example.jp",
            "--role",
            "specialist",
            "--password",
            "long-enough-pw",
        ],
    )
    assert result.exit_code == 2
    result = runner.invoke(
        app,
        [
            "user",
            "create",
            "--email",
            "legal@example.jp",
            "--role",
            "specialist",
            "--department",
            "法務",
            "--password",
            "long-enough-pw",
        ],
    )
    assert result.exit_code == 0, result.output


def test_server_refuses_missing_database(tmp_path: Path) -> None:
    from hikeshi.config import Settings

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        environment="test",
        secret_key=TEST_SECRET,
    )  # type: ignore[arg-type]
    with pytest.raises(DatabaseNotReady, match="hikeshi db upgrade"):
        create_app(settings)


def test_server_refuses_outdated_database(cli_env: str) -> None:
    from hikeshi import migrate

    engine = make_engine(cli_env)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'old0000000'")
    engine.dispose()
    with pytest.raises(DatabaseNotReady, match=r"revision old0000000"):
        migrate.ensure_current(make_engine(cli_env))
    result = runner.invoke(app, ["serve", "--port", "8999"])
    assert result.exit_code == 2
    assert "hikeshi db upgrade" in result.output


def test_playbook_validate_names_file_line_and_field(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[3] / "src/hikeshi/playbooks/packs/recall"
    ok = runner.invoke(app, ["playbook", "validate", str(shipped)])
    assert ok.exit_code == 0, ok.output
    assert "1 pack(s) valid" in ok.output

    broken = tmp_path / "recall"
    broken.mkdir()
    for f in shipped.iterdir():
        (broken / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    lines = (broken / "pack.yaml").read_text(encoding="utf-8").splitlines()
    line_no = next(i for i, ln in enumerate(lines) if ln.strip().startswith("aht_seconds:"))
    indent = lines[line_no][: len(lines[line_no]) - len(lines[line_no].lstrip())]
    lines[line_no] = f"{indent}aht_seconds: -5"
    (broken / "pack.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    bad = runner.invoke(app, ["playbook", "validate", str(broken)])
    assert bad.exit_code == 1
    assert f"pack.yaml:{line_no + 1}:" in bad.output
    assert "staffing.aht_seconds" in bad.output
