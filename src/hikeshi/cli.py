"""The ``hikeshi`` command: serve, worker, demo, db, user create, audit verify, playbook."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from hikeshi import migrate
from hikeshi.audit.service import set_actor, system_actor, verify_chain
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department, Role
from hikeshi.auth.models import Organisation
from hikeshi.config import Settings, get_settings
from hikeshi.context import AppContext
from hikeshi.errors import HikeshiError
from hikeshi.observability import configure_logging

app = typer.Typer(help="Hikeshi (火消し) — crisis contact-center platform", no_args_is_help=True)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
user_app = typer.Typer(help="Users", no_args_is_help=True)
audit_app = typer.Typer(help="Audit trail", no_args_is_help=True)
playbook_app = typer.Typer(help="Playbook packs (対応フロー)", no_args_is_help=True)
incident_app = typer.Typer(help="Incidents (緊急対応)", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(playbook_app, name="playbook")
app.add_typer(incident_app, name="incident")
console = Console()
err = Console(stderr=True)


def _fail(exc: HikeshiError) -> typer.Exit:
    err.print(f"[bold red]エラー:[/] {exc.message_ja}\n{exc.message_en}")
    return typer.Exit(code=2)


def _context(settings: Settings | None = None) -> AppContext:
    return AppContext.build(settings or get_settings())


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create the database or migrate it to the code's schema."""
    ctx = _context()
    try:
        before = migrate.current_revision(ctx.engine)
        migrate.upgrade(ctx.engine, revision)
        after = migrate.current_revision(ctx.engine)
    finally:
        ctx.dispose()
    url = ctx.engine.url.render_as_string(hide_password=True)
    console.print(f"database {url}: {before or '(empty)'} → {after}")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and of the code."""
    ctx = _context()
    try:
        console.print(
            f"database: {migrate.current_revision(ctx.engine)}  code: {migrate.head_revision()}"
        )
    finally:
        ctx.dispose()


def _serve(settings: Settings, host: str, port: int) -> None:
    from hikeshi.main import create_app  # the web stack is loaded only by commands that serve

    configure_logging(level=settings.log_level, json_lines=settings.log_json)
    try:
        application = create_app(settings)
    except HikeshiError as exc:
        raise _fail(exc) from exc
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    worker: Annotated[bool, typer.Option(help="Run the job worker inside the server")] = True,
) -> None:
    """Run the web server (and, by default, the job worker in the same process)."""
    settings = get_settings().model_copy(update={"run_worker_in_server": worker})
    _serve(settings, host, port)


@app.command()
def worker() -> None:
    """Run the job worker and scheduler as a separate process."""
    from hikeshi.jobs.worker import run_worker_process

    settings = get_settings()
    configure_logging(level=settings.log_level, json_lines=settings.log_json)
    ctx = _context(settings)
    try:
        migrate.ensure_current(ctx.engine)
    except HikeshiError as exc:
        raise _fail(exc) from exc
    finally:
        ctx.dispose()
    run_worker_process(settings)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="Where the demo SQLite file lives")] = Path(
        "data/demo"
    ),
) -> None:
    """Start a demo on http://127.0.0.1:8000 with a SQLite file and one user per role."""
    from hikeshi.demo import DEMO_PASSWORD, seed_demo, seed_demo_recall, seed_demo_risks

    os.environ.setdefault("HIKESHI_ENVIRONMENT", "development")
    settings = Settings(
        data_dir=data_dir, database_url=None, environment="development", log_json=False
    )
    ctx = _context(settings)
    try:
        migrate.upgrade(ctx.engine)
        users = seed_demo(sessions=ctx.sessions, clock=ctx.clock)
        seed_demo_risks(sessions=ctx.sessions, clock=ctx.clock)
        recall = seed_demo_recall(sessions=ctx.sessions, clock=ctx.clock)
    except HikeshiError as exc:
        raise _fail(exc) from exc
    finally:
        ctx.dispose()
    table = Table(title="Hikeshi デモ — ログイン情報")
    table.add_column("役割 role")
    table.add_column("メール email")
    table.add_column("パスワード password")
    for u in users:
        dept = f"（{u.department.value}）" if u.department else ""
        table.add_row(u.role.label_ja + dept, u.email, DEMO_PASSWORD)
    console.print(table)
    console.print(f"ブラウザで http://{host}:{port}/login を開いてください  (data: {data_dir})")
    console.print(
        f"リコールのお知らせ（ログイン不要）: http://{host}:{port}/n/{recall.public_slug}"
        "  — 対象製品の確認: 型番 EH-1200 / 製造番号 2409000001〜2409049999",
        soft_wrap=True,
    )
    _serve(settings, host, port)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Login e-mail")],
    role: Annotated[Role, typer.Option(help="operator/supervisor/specialist/manager/admin")],
    name: Annotated[str, typer.Option(help="Display name")] = "",
    department: Annotated[Department | None, typer.Option(help="専門部署 (specialists)")] = None,
    org: Annotated[list[str] | None, typer.Option(help="Organisation slug (repeatable)")] = None,
    create_org: Annotated[str | None, typer.Option(help="Create this org as 'slug:名称'")] = None,
    password: Annotated[str | None, typer.Option(help="Password (prompted if omitted)")] = None,
) -> None:
    """Create a user (and optionally the first organisation)."""
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    ctx = _context()
    try:
        migrate.ensure_current(ctx.engine)
        with ctx.sessions() as session:
            set_actor(session, system_actor("cli:user-create"))
            slugs = list(org or [])
            if create_org:
                slug, _, org_name = create_org.partition(":")
                auth_service.create_org(
                    session=session, slug=slug, name=org_name or slug, clock=ctx.clock
                )
                slugs.append(slug)
            org_ids = []
            for slug in slugs:
                found = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
                if found is None:
                    raise typer.BadParameter(f"unknown organisation '{slug}'", param_hint="--org")
                org_ids.append(found)
            user = auth_service.create_user(
                session=session,
                email=email,
                display_name=name or email,
                password=password,
                role=role,
                department=department,
                org_ids=org_ids,
                clock=ctx.clock,
            )
            session.commit()
            console.print(
                f"created user {user.email} ({role.value}) in {len(org_ids)} organisation(s)"
            )
    except HikeshiError as exc:
        raise _fail(exc) from exc
    finally:
        ctx.dispose()


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the hash chain and report the first edited, inserted or deleted row."""
    ctx = _context()
    try:
        with ctx.sessions() as session:
            result = verify_chain(session)
    finally:
        ctx.dispose()
    if result.problem is None:
        console.print(f"OK: {result.rows_checked} rows, chain intact (head seq {result.head_seq})")
        return
    p = result.problem
    err.print(f"[bold red]TAMPERED[/] ({p.kind}) at seq {p.seq}: {p.message}")
    raise typer.Exit(code=1)


@playbook_app.command("validate")
def playbook_validate(
    paths: Annotated[list[Path], typer.Argument(help="pack directories or pack.yaml files")],
) -> None:
    """Check packs against the schema; every error names its file, line and field."""
    from hikeshi.playbooks.loader import validate_command

    code, lines = validate_command(paths)
    for line in lines:
        (console if code == 0 else err).print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code=code)


def _launch_params(params_file: Path | None, param: list[str]) -> dict[str, object]:
    import yaml

    values: dict[str, object] = {}
    if params_file is not None:
        loaded = yaml.safe_load(params_file.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise typer.BadParameter("must be a YAML mapping of name: value", param_hint="--params")
        values.update({str(k): v for k, v in loaded.items()})
    for item in param:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{item!r} is not name=value", param_hint="--param")
        values[name.strip()] = (
            int(value) if value.strip().isdigit() and name != "hotline" else value
        )
    return values


@incident_app.command("launch")
def incident_launch(
    org: Annotated[str, typer.Option(help="Organisation slug")],
    pack: Annotated[str, typer.Option(help="Pack id (recall, data_breach, …)")],
    key: Annotated[str, typer.Option(help="Idempotency key: the same key never launches twice")],
    params: Annotated[Path | None, typer.Option(help="YAML file of parameter values")] = None,
    param: Annotated[list[str] | None, typer.Option(help="name=value (repeatable)")] = None,
    title: Annotated[str | None, typer.Option(help="Incident title")] = None,
    drill: Annotated[bool, typer.Option(help="訓練: marked everywhere, never counted")] = False,
) -> None:
    """立ち上げ: turn a playbook pack plus parameters into a live incident."""
    import getpass

    from hikeshi.incidents import service as incidents
    from hikeshi.incidents.packs import get_pack

    values = _launch_params(params, param or [])
    settings = get_settings()
    ctx = _context(settings)
    try:
        migrate.ensure_current(ctx.engine)
        chosen = get_pack(settings, pack)
        for declared in chosen.parameters:
            # Values from the command line are text; the pack says which ones are numbers.
            raw = values.get(declared.name)
            if declared.type == "int" and isinstance(raw, str):
                digits = raw.replace(",", "").strip()
                values[declared.name] = int(digits) if digits.isdigit() else raw
        with ctx.sessions() as session:
            label = f"cli:{getpass.getuser()}"
            set_actor(session, system_actor(label))
            org_id = session.scalar(select(Organisation.id).where(Organisation.slug == org))
            if org_id is None:
                raise typer.BadParameter(f"unknown organisation '{org}'", param_hint="--org")
            result = incidents.launch(
                session=session,
                org_id=org_id,
                pack=chosen,
                params=values,
                launch_key=key,
                actor_label=label,
                clock=ctx.clock,
                title=title,
                is_drill=drill,
            )
            session.commit()
            incident = result.incident
            verb = "launched" if result.created else "already launched (same key)"
            console.print(f"{verb}: incident {incident.id} 「{incident.title}」")
            console.print(f"public page: {settings.public_base_url}/n/{incident.public_slug}")
    except HikeshiError as exc:
        for field, problem in exc.fields.items():
            err.print(f"  {field}: {problem}", markup=False)
        raise _fail(exc) from exc
    finally:
        ctx.dispose()


if __name__ == "__main__":
    app()
