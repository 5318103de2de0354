"""`hikeshi incident launch` and the demo's recall, on a real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from hikeshi.audit.service import make_audited_session_factory
from hikeshi.cli import app
from hikeshi.clock import SystemClock
from hikeshi.config import get_settings
from hikeshi.db import make_engine
from hikeshi.demo import seed_demo, seed_demo_recall, seed_demo_risks
from hikeshi.incidents import notices
from hikeshi.incidents import service as incidents
from hikeshi.incidents.models import Incident, NoticeChannel, NoticeVersion
from hikeshi.incidents.serials import is_affected, normalise
from hikeshi.risks.models import Risk
from tests.servers import TEST_SECRET

runner = CliRunner()


@pytest.fixture
def cli_env(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("HIKESHI_DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("HIKESHI_ENVIRONMENT", "test")
    monkeypatch.setenv("HIKESHI_SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    yield fresh_db_url
    get_settings.cache_clear()


def _incidents(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(Incident))
    engine.dispose()
    return int(n or 0)


def test_cli_launch_is_idempotent_and_reports_bad_parameters(cli_env: str, tmp_path: Path) -> None:
    made = runner.invoke(
        app,
        ["user", "create", "--email", "m@x.jp", "--role", "manager", "--create-org", "acme:アクメ"],
        input="long-enough-pw\nlong-enough-pw\n",
    )
    assert made.exit_code == 0, made.output
    params = tmp_path / "params.yaml"
    shipped = Path(__file__).resolve().parents[3] / "src/hikeshi/playbooks/packs/recall/pack.yaml"
    examples = {
        p["name"]: p["example"]
        for p in yaml.safe_load(shipped.read_text(encoding="utf-8"))["parameters"]
    }
    examples.pop("affected_units")
    params.write_text(yaml.safe_dump(examples, allow_unicode=True), encoding="utf-8")
    args = ["incident", "launch", "--org", "acme", "--pack", "recall", "--key", "kt-200"]
    args += ["--params", str(params), "--param", "affected_units=48,000"]

    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "launched: incident" in first.output and "/n/" in first.output
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "already launched" in second.output
    assert _incidents(cli_env) == 1

    bad = runner.invoke(app, [*args[:-4], "--key", "other", "--params", str(params)])
    assert bad.exit_code == 2
    assert "affected_units" in bad.output  # the missing parameter is named
    assert _incidents(cli_env) == 1


def test_demo_recall_has_a_published_notice_and_a_working_serial_check(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    sessions = make_audited_session_factory(engine)
    clock = SystemClock()
    seed_demo(sessions=sessions, clock=clock)
    incident = seed_demo_recall(sessions=sessions, clock=clock)
    again = seed_demo_recall(sessions=sessions, clock=clock)
    assert again.id == incident.id
    for _ in range(2):  # idempotent: the second run adds nothing
        seed_demo_risks(sessions=sessions, clock=clock)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Risk)) == 2 * 6
    with sessions() as s:
        [web] = notices.notice_versions(
            session=s, org_id=incident.org_id, incident_id=incident.id, channel=NoticeChannel.web
        )
        assert {a["department"] for a in web.approvals} == {"広報", "法務"}
        assert s.scalar(select(func.count()).select_from(NoticeVersion)) == 1
        live = incidents.get_incident(session=s, org_id=incident.org_id, incident_id=incident.id)
        coverage = incidents.coverage_of(session=s, incident=live)
    assert is_affected(coverage, normalise("EH-1200"), normalise("2409000001"))
    assert is_affected(coverage, normalise("eh-1200w"), normalise("２４０９０４９９９９"))
    assert not is_affected(coverage, normalise("EH-1200"), normalise("2409050000"))
    assert not is_affected(coverage, normalise("EH-1300"), normalise("2409000001"))
    engine.dispose()
