"""Launch time (立ち上げ): from the launch request to a committed incident with script, FAQ,
notice drafts, serial coverage, timeline and roster jobs — through the HTTP API, on SQLite and
on PostgreSQL. Target: under 1 second.

    .venv/bin/python bench/launch.py                       # SQLite only
    .venv/bin/python bench/launch.py --pg postgresql://postgres@127.0.0.1:5432/test

Prints one line per database: the first launch after start-up, then the median, p95 and max of
N further launches with distinct keys (3 departments have contacts, so roster jobs are really
queued), and the start-up time, which includes reading and validating the packs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from hikeshi import migrate
from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Role
from hikeshi.clock import SystemClock
from hikeshi.config import Settings
from hikeshi.db import make_engine
from hikeshi.incidents import packs
from hikeshi.main import create_app
from hikeshi.playbooks.loader import discover_packs

SECRET = "bench-secret-key-that-is-long-enough-0123456789"


def fresh_database(kind: str, pg_admin: str | None, tmp: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.sqlite3'}"
    assert pg_admin
    name = f"hikeshi_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(pg_admin).set(drivername="postgresql+psycopg")
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def drop(url: str, pg_admin: str | None) -> None:
    if url.startswith("sqlite") or not pg_admin:
        return
    admin = make_url(pg_admin).set(drivername="postgresql+psycopg")
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    eng.dispose()


def run(kind: str, url: str, n: int) -> dict[str, float]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(
        database_url=url,
        environment="test",
        secret_key=SECRET,  # type: ignore[arg-type]
        log_json=False,
        run_worker_in_server=False,
    )
    app = create_app(settings)
    clock = SystemClock()
    sessions = app.state.ctx.sessions
    with sessions() as s:
        set_actor(s, system_actor("bench"))
        org = auth_service.create_org(session=s, slug="bench", name="ベンチ株式会社", clock=clock)
        raw, _ = auth_service.issue_api_token(
            session=s,
            org_id=org.id,
            name="bench",
            role=Role.manager,
            issuer_role=Role.admin,
            created_by_id=None,
            expires_at=None,
            clock=clock,
        )
        s.commit()
        org_id = org.id
    headers = {"Authorization": f"Bearer {raw}"}
    packs._packs.cache_clear()
    started = time.perf_counter()
    with TestClient(app) as client:  # start-up reads and validates the packs
        startup = time.perf_counter() - started
        for dept, address in (("広報", "pr@x.jp"), ("経営", "exec@x.jp"), ("人事", "hr@x.jp")):
            client.post(
                f"/api/v1/orgs/{org_id}/roster/contacts",
                json={"department": dept, "name": dept, "channel": "email", "address": address},
                headers=headers,
            ).raise_for_status()
        # The pack's own examples are the launch values (JSON as a client would send them).
        recall = discover_packs()["recall"]
        body = {p.name: p.example for p in recall.parameters}
        timings: list[float] = []
        for i in range(n + 1):
            started = time.perf_counter()
            resp = client.post(
                f"/api/v1/orgs/{org_id}/incidents",
                json={"pack_id": "recall", "launch_key": f"bench-{i}", "params": body},
                headers=headers,
            )
            timings.append(time.perf_counter() - started)
            assert resp.status_code == 201, resp.text
    app.state.ctx.dispose()
    cold, warm = timings[0], sorted(timings[1:])
    return {
        "startup": startup,
        "cold": cold,
        "median": statistics.median(warm),
        "p95": warm[max(0, int(len(warm) * 0.95) - 1)],
        "max": warm[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="PostgreSQL admin URL (creates and drops a database)")
    parser.add_argument("-n", type=int, default=30, help="warm launches per database")
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if args.pg else [])
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            url = fresh_database(kind, args.pg, Path(tmp))
            try:
                r = run(kind, url, args.n)
            finally:
                drop(url, args.pg)
            print(
                f"{kind:10s} launch via API: first after start {r['cold'] * 1000:.0f} ms, "
                f"median {r['median'] * 1000:.0f} ms, p95 {r['p95'] * 1000:.0f} ms, "
                f"max {r['max'] * 1000:.0f} ms over {args.n} launches (target < 1000 ms); "
                f"server start-up incl. reading 5 packs {r['startup'] * 1000:.0f} ms"
            )


if __name__ == "__main__":
    main()
