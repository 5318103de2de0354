"""Contact intake (問い合わせの受付) over HTTP against PostgreSQL's own single-row insert rate.

    .venv/bin/python bench/intake.py --pg postgresql://postgres@127.0.0.1:5432/test

In one run, on one fresh database:

1. single intake: a real uvicorn server (``hikeshi.main:create_app``, ``--workers`` processes,
   no access log, no job worker) loaded by ``wrk`` with ``--clients`` connections, each waiting
   for its answer before sending the next (closed loop, as pgbench's clients do), for
   ``--seconds`` after a warm-up. Every POST carries a distinct idempotency key and a caller's
   phone number from a pool, so customers are matched or created. Every 2xx is a committed
   transaction (synchronous_commit as the server has it, printed); the rows are counted in the
   database afterwards. Rate and p50/p99 latency from wrk's histogram.
2. ``pgbench`` with a custom script doing one INSERT of a similar row into a similar table
   (same unique key on the idempotency key), same concurrency (-c clients -j 2), same seconds;
   its tps and p99 (from the per-transaction log).
3. batch intake: ``POST /contacts/bulk`` with 1000-contact batches, one client, against a
   psycopg ``COPY`` of the same rows into the similar table, one COPY + commit per 1000 rows.

Prints the figures and the ratios against the targets (single ≥ 60 % of pgbench with p99 under
50 ms; batch ≥ 50 % of COPY). A benchmark, not a test: it never fails on a miss.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import create_engine, make_url, text

from hikeshi import migrate
from hikeshi.audit.service import make_audited_session_factory, set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Role
from hikeshi.clock import SystemClock
from hikeshi.db import make_engine

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
PHONES = 5000
SIMILAR_TABLE = """
CREATE TABLE bench_contacts (
    id SERIAL PRIMARY KEY,
    org_id INTEGER NOT NULL,
    idempotency_key VARCHAR(200),
    customer_id INTEGER,
    channel VARCHAR(16) NOT NULL,
    priority VARCHAR(4) NOT NULL,
    status VARCHAR(16) NOT NULL,
    subject VARCHAR(300) NOT NULL,
    notes TEXT NOT NULL,
    transcript TEXT NOT NULL,
    operator_label VARCHAR(254) NOT NULL,
    source VARCHAR(100) NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT uq_bench_key UNIQUE (org_id, idempotency_key)
);
CREATE INDEX ix_bench_org_started ON bench_contacts (org_id, started_at);
CREATE INDEX ix_bench_customer ON bench_contacts (customer_id);
"""
PGBENCH_SCRIPT = """
INSERT INTO bench_contacts (org_id, idempotency_key, customer_id, channel, priority, status,
  subject, notes, transcript, operator_label, source, started_at, created_at, updated_at)
VALUES (1, 'pgb-' || :client_id || '-' || md5(random()::text || clock_timestamp()::text), NULL,
  'phone_in', 'P3', 'open', '製品の対象確認', 'ベンチマークの問い合わせです', '',
  'token:bench', 'bench', now(), now(), now());
"""
SUBJECT = "製品の対象確認"
NOTES = "ベンチマークの問い合わせです"


def pgbench_path() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    for version in (17, 16, 15, 14, 13):
        candidate = Path(f"/usr/lib/postgresql/{version}/bin/pgbench")
        if candidate.exists():
            return str(candidate)
    sys.exit("pgbench not found (Debian: apt-get install postgresql-client)")


def fresh_database(pg_admin: str) -> str:
    name = f"hikeshi_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(pg_admin).set(drivername="postgresql+psycopg")
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def drop(url: str) -> None:
    admin = make_url(url).set(database="postgres")
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    eng.dispose()


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def prepare(url: str) -> tuple[int, str]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_audited_session_factory(engine)
    clock = SystemClock()
    with sessions() as s:
        set_actor(s, system_actor("bench"))
        org = auth_service.create_org(session=s, slug="bench", name="ベンチ株式会社", clock=clock)
        raw, _ = auth_service.issue_api_token(
            session=s,
            org_id=org.id,
            name="bench intake",
            role=Role.operator,
            issuer_role=Role.admin,
            created_by_id=None,
            expires_at=None,
            clock=clock,
        )
        s.commit()
        org_id = org.id
    with engine.begin() as conn:
        for statement in SIMILAR_TABLE.split(";"):
            if statement.strip():
                conn.execute(text(statement))
    engine.dispose()
    return org_id, raw


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int, workers: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HIKESHI_DATABASE_URL": url,
        "HIKESHI_ENVIRONMENT": "test",
        "HIKESHI_SECRET_KEY": SECRET,
        "HIKESHI_RUN_WORKER_IN_SERVER": "false",
        "HIKESHI_LOG_LEVEL": "WARNING",
        "HIKESHI_DATA_DIR": str(tmp),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "hikeshi.main:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    sys.exit("server did not become ready")


def contact_body(run: str, client: int, n: int) -> dict[str, Any]:
    phone_index = (client * 7919 + n * 104729) % PHONES
    return {
        "channel": "phone_in",
        "idempotency_key": f"{run}-{client}-{n}",
        "phone": f"03-{5000 + phone_index // 10000:04d}-{phone_index % 10000:04d}",
        "subject": SUBJECT,
        "notes": NOTES,
        "source": "bench",
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


WRK_SCRIPT = r"""
local next_id = 0
setup = function(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
end
local counter = 0
request = function()
  counter = counter + 1
  local p = (tid * 7919 + counter * 104729) % PHONES
  local body = string.format(
    '{"channel":"phone_in","idempotency_key":"%s-%d-%d","phone":"03-%04d-%04d",' ..
    '"subject":"SUBJECT","notes":"NOTES","source":"bench"}',
    RUN, tid, counter, 5000 + math.floor(p / 10000), p % 10000)
  return wrk.format("POST", PATH, HEADERS, body)
end
"""


def wrk_script(tmp: Path, run: str, path: str, token: str) -> Path:
    lua = (
        WRK_SCRIPT.replace("SUBJECT", SUBJECT)
        .replace("NOTES", NOTES)
        .replace("PHONES", str(PHONES))
        .replace("RUN", f'"{run}"')
        .replace("PATH", f'"{path}"')
        .replace(
            "HEADERS",
            '{["Authorization"]="Bearer ' + token + '", ["Content-Type"]="application/json"}',
        )
    )
    script = tmp / f"intake-{run}.lua"
    script.write_text(lua, encoding="utf-8")
    return script


def _wrk_ms(value: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * factor
    return float(value)


def single_intake(
    base: str,
    org_id: int,
    token: str,
    clients: int,
    seconds: float,
    warmup: float,
    tmp: Path,
) -> dict[str, float]:
    """wrk (C, closed loop like pgbench: each connection waits for its answer) so that the
    load generator takes as little as possible of the CPU the server and PostgreSQL share."""
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk not found (Debian: apt-get install wrk)")
    path = f"/api/v1/orgs/{org_id}/contacts"
    threads = str(min(2, clients))
    warm = wrk_script(tmp, uuid.uuid4().hex[:6], path, token)
    subprocess.run(
        [
            wrk,
            "-t",
            threads,
            "-c",
            str(clients),
            "-d",
            f"{max(1, int(warmup))}s",
            "-s",
            str(warm),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    run = uuid.uuid4().hex[:6]
    script = wrk_script(tmp, run, path, token)
    done = subprocess.run(
        [
            wrk,
            "-t",
            threads,
            "-c",
            str(clients),
            "-d",
            f"{int(seconds)}s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = {"p50": float("nan"), "p99": float("nan"), "errors": 0.0, "rate": float("nan")}
    requests = 0.0
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "50%":
            out["p50"] = _wrk_ms(parts[1]) / 1000
        elif len(parts) == 2 and parts[0] == "99%":
            out["p99"] = _wrk_ms(parts[1]) / 1000
        elif line.strip().startswith("Non-2xx"):
            out["errors"] = float(parts[-1])
        elif "requests in" in line:
            requests = float(parts[0])
    out["count"] = requests - out["errors"]
    out["rate"] = out["count"] / seconds
    out["run"] = run  # type: ignore[assignment]
    return out


def run_pgbench(url: str, clients: int, seconds: int, tmp: Path) -> dict[str, float]:
    script = tmp / "insert.sql"
    script.write_text(PGBENCH_SCRIPT, encoding="utf-8")
    logdir = tmp / "pgbench-log"
    logdir.mkdir(exist_ok=True)
    command = [
        pgbench_path(),
        "-n",
        "-c",
        str(clients),
        "-j",
        str(min(2, clients)),
        "-T",
        str(seconds),
        "-f",
        str(script),
        "-l",
        "--log-prefix",
        str(logdir / "tx"),
        libpq(url),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    tps = float("nan")
    for line in done.stdout.splitlines():
        if line.startswith("tps ="):
            tps = float(line.split("=")[1].split()[0])
            break
    latencies: list[float] = []
    for log in logdir.glob("tx*"):
        for line in log.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                latencies.append(int(parts[2]) / 1_000_000)
    return {
        "rate": tps,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": percentile(latencies, 99),
    }


def batch_intake(base: str, org_id: int, token: str, batches: int, size: int) -> dict[str, float]:
    run = uuid.uuid4().hex[:6]
    headers = {"Authorization": f"Bearer {token}"}
    path = f"{base}/api/v1/orgs/{org_id}/contacts/bulk"
    bodies = [
        {"items": [contact_body(f"{run}b", b, n) for n in range(size)]} for b in range(batches)
    ]
    with httpx.Client(headers=headers, timeout=120) as http:
        # One warm-up batch (not counted).
        warm = {"items": [contact_body(f"{run}w", 0, n) for n in range(size)]}
        http.post(path, json=warm).raise_for_status()
        started = time.perf_counter()
        for body in bodies:
            resp = http.post(path, json=body)
            if resp.status_code != 201:
                sys.exit(f"bulk failed: {resp.status_code} {resp.text[:300]}")
        elapsed = time.perf_counter() - started
    rows = batches * size
    return {"rows": rows, "rate": rows / elapsed, "seconds": elapsed}


def copy_rows(url: str, batches: int, size: int) -> dict[str, float]:
    run = uuid.uuid4().hex[:6]
    columns = (
        "org_id, idempotency_key, customer_id, channel, priority, status, subject, notes, "
        "transcript, operator_label, source, started_at, created_at, updated_at"
    )
    with psycopg.connect(libpq(url)) as conn:
        started = time.perf_counter()
        for b in range(batches):
            now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY bench_contacts ({columns}) FROM STDIN") as copy,
            ):
                for n in range(size):
                    copy.write_row(
                        (
                            1,
                            f"copy-{run}-{b}-{n}",
                            None,
                            "phone_in",
                            "P3",
                            "open",
                            SUBJECT,
                            NOTES,
                            "",
                            "token:bench",
                            "bench",
                            now,
                            now,
                            now,
                        )
                    )
            conn.commit()
        elapsed = time.perf_counter() - started
    rows = batches * size
    return {"rows": rows, "rate": rows / elapsed, "seconds": elapsed}


def count_contacts(url: str, run: str) -> int:
    """Every 2xx answer must be a committed row: count them in the database."""
    with psycopg.connect(libpq(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM contacts WHERE idempotency_key LIKE %s", (f"{run}-%",)
        ).fetchone()
    return int(row[0]) if row else 0


def server_setting(url: str, name: str) -> str:
    with psycopg.connect(libpq(url)) as conn:
        row = conn.execute(f"SHOW {name}").fetchone()
    return str(row[0]) if row else "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", required=True, help="PostgreSQL admin URL (creates a database)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    url = fresh_database(args.pg)
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            org_id, token = prepare(url)
            print(
                f"database {make_url(url).database}: synchronous_commit="
                f"{server_setting(url, 'synchronous_commit')}, fsync={server_setting(url, 'fsync')}"
                f"; {os.cpu_count()} CPUs shared by server, clients and PostgreSQL"
            )
            port = free_port()
            server = start_server(url, port, args.workers, tmp)
            base = f"http://127.0.0.1:{port}"
            try:
                single = single_intake(
                    base, org_id, token, args.clients, args.seconds, args.warmup, tmp
                )
                stored = count_contacts(url, str(single.pop("run")))
                pgb = run_pgbench(url, args.clients, args.seconds, tmp)
                batch = batch_intake(base, org_id, token, args.batches, args.batch_size)
                copy = copy_rows(url, args.batches, args.batch_size)
            finally:
                server.terminate()
                server.wait(timeout=10)
    finally:
        if not args.keep:
            drop(url)

    ratio = single["rate"] / pgb["rate"] if pgb["rate"] else float("nan")
    batch_ratio = batch["rate"] / copy["rate"] if copy["rate"] else float("nan")
    print(
        f"single intake over HTTP: {single['rate']:.0f} contacts/s with {args.clients} clients "
        f"for {args.seconds} s ({single['count']:.0f} answered 2xx, {stored} rows in the "
        f"database, {single['errors']:.0f} errors), "
        f"p50 {single['p50'] * 1000:.1f} ms, p99 {single['p99'] * 1000:.1f} ms "
        f"(uvicorn workers: {args.workers})"
    )
    print(
        f"pgbench single-row INSERT: {pgb['rate']:.0f} tps with -c {args.clients} "
        f"-j {min(2, args.clients)} -T {args.seconds}, p50 {pgb['p50'] * 1000:.1f} ms, "
        f"p99 {pgb['p99'] * 1000:.1f} ms"
    )
    print(
        f"single ratio: {ratio * 100:.1f} % of pgbench (target >= 60 %); p99 "
        f"{single['p99'] * 1000:.1f} ms (target < 50 ms)"
    )
    print(
        f"batch intake over HTTP: {batch['rate']:.0f} contacts/s "
        f"({args.batches} x {args.batch_size} in {batch['seconds']:.2f} s)"
    )
    print(
        f"COPY of the same rows: {copy['rate']:.0f} rows/s "
        f"({args.batches} x {args.batch_size} in {copy['seconds']:.2f} s)"
    )
    print(f"batch ratio: {batch_ratio * 100:.1f} % of COPY (target >= 50 %)")


if __name__ == "__main__":
    main()
