"""立ち上げ (launch) pages: choose a pack, fill in its parameters, launch — one transaction.

The form carries a launch key made when it is rendered, so a double submit is one incident; a
missing or wrong parameter comes back next to its field with the key kept.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from hikeshi.deps import CtxDep, Principal, Transaction, TxDep
from hikeshi.errors import ValidationFailed
from hikeshi.incidents import service
from hikeshi.incidents.packs import available_packs, get_pack
from hikeshi.incidents.pages import PATH, CanLaunch
from hikeshi.playbooks.schemas import Pack, Parameter
from hikeshi.web import ui
from hikeshi.web.pages import UserDep

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]
TYPE_HINTS = {
    "serial_ranges": "1行に1つ。範囲は「2301000001〜2306999999」のように〜でつなぎます。",
    "lots": "1行に1つ。",
    "phone": "例：0120-123-456",
    "int": "半角数字",
}
LONG_TEXT = 40  # str parameters whose example is longer than this get a textarea


async def form_fields(request: Request) -> dict[str, str]:
    """Every text field of the posted form (the launch form's fields depend on the pack)."""
    form = await request.form()
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


FieldsDep = Annotated[dict[str, str], Depends(form_fields)]


# --- launch -----------------------------------------------------------------------------------


@router.get(f"{PATH}/launch", dependencies=CanLaunch)
def launch_choose(principal: UserDep, tx: TxDep, ctx: CtxDep) -> Response:
    with tx() as session:
        chrome = ui.load_chrome(session=session, principal=principal, path=PATH)
    available = sorted(available_packs(ctx.settings).values(), key=lambda p: p.id)
    return ui.page("incidents/launch_choose.html", {"packs": available}, chrome=chrome)


@dataclass(frozen=True)
class ParamField:
    """One input of the launch form."""

    parameter: Parameter
    field_name: str
    element_id: str
    widget: str  # text, textarea, lines, date, number, tel
    value: str
    placeholder: str
    hint: str
    error: str | None


def _example_text(parameter: Parameter) -> str:
    example = parameter.example
    if isinstance(example, list | tuple):
        return "\n".join(str(item) for item in example)
    return str(example)


def _widget(parameter: Parameter) -> str:
    if parameter.type in ("serial_ranges", "lots"):
        return "lines"
    if parameter.type == "date":
        return "date"
    if parameter.type == "int":
        return "number"
    if parameter.type == "phone":
        return "tel"
    return "textarea" if len(_example_text(parameter)) > LONG_TEXT else "text"


def _param_fields(pack: Pack, values: dict[str, str], errors: dict[str, str]) -> list[ParamField]:
    fields = []
    for p in pack.parameters:
        fields.append(
            ParamField(
                parameter=p,
                field_name=f"param_{p.name}",
                element_id=f"param-{p.name}",
                widget=_widget(p),
                value=values.get(p.name, ""),
                placeholder=_example_text(p),
                hint=" ".join(h for h in (p.help_ja or "", TYPE_HINTS.get(p.type, "")) if h),
                error=errors.get(p.name),
            )
        )
    return fields


def _launch_form(
    tx: Transaction,
    principal: Principal,
    pack: Pack,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    title: str = "",
    is_drill: bool = False,
    launch_key: str | None = None,
    status_code: int = 200,
) -> Response:
    with tx() as session:
        chrome = ui.load_chrome(session=session, principal=principal, path=PATH)
    return ui.page(
        "incidents/launch_form.html",
        {
            "pack": pack,
            "fields": _param_fields(pack, values or {}, errors or {}),
            "error": error,
            "form_title": title,
            "is_drill": is_drill,
            "launch_key": launch_key or uuid.uuid4().hex,
        },
        chrome=chrome,
        status_code=status_code,
    )


@router.get(f"{PATH}/launch/{{pack_id}}", dependencies=CanLaunch)
def launch_form(
    pack_id: str, principal: UserDep, tx: TxDep, ctx: CtxDep, example: int = 0, drill: int = 0
) -> Response:
    pack = get_pack(ctx.settings, pack_id)
    values = {p.name: _example_text(p) for p in pack.parameters} if example else {}
    return _launch_form(tx, principal, pack, values=values, is_drill=bool(drill))


def parse_params(
    pack: Pack, form: dict[str, str]
) -> tuple[dict[str, str], dict[str, object], dict[str, str]]:
    """Form text → (values to re-show, launch params, per-parameter errors).

    Blank fields are left out, so the service names the required ones that are missing.
    """
    shown: dict[str, str] = {}
    params: dict[str, object] = {}
    errors: dict[str, str] = {}
    for p in pack.parameters:
        raw = form.get(f"param_{p.name}", "")
        shown[p.name] = raw
        text = raw.strip()
        if not text:
            if p.required:
                errors[p.name] = f"{p.label_ja}を入力してください"
            continue
        if p.type == "int":
            digits = unicodedata.normalize("NFKC", text).replace(",", "").replace("_", "")
            if not digits.lstrip("-").isdigit():
                errors[p.name] = f"{p.label_ja}は半角数字で入力してください"
                continue
            params[p.name] = int(digits)
        elif p.type in ("serial_ranges", "lots"):
            params[p.name] = [line.strip() for line in text.splitlines() if line.strip()]
        else:
            params[p.name] = text
    return shown, params, errors


def _field_errors(pack: Pack, exc: ValidationFailed) -> dict[str, str]:
    """The parameter(s) a RenderError/ValidationFailed names, with its Japanese message."""
    names: list[str] = []
    fields = exc.fields
    if isinstance(fields.get("parameter"), str):
        names.append(fields["parameter"])
    if isinstance(fields.get("parameters"), list):
        names += [str(n) for n in fields["parameters"]]
    known = {p.name for p in pack.parameters}
    return {name: exc.message_ja for name in names if name in known}


@router.post(f"{PATH}/launch/{{pack_id}}", dependencies=CanLaunch)
def launch_submit(
    pack_id: str, principal: UserDep, tx: TxDep, ctx: CtxDep, form: FieldsDep
) -> Response:
    pack = get_pack(ctx.settings, pack_id)
    shown, params, errors = parse_params(pack, form)
    title = form.get("title", "").strip()
    is_drill = form.get("is_drill", "") in ("1", "on", "true")
    launch_key = form.get("launch_key", "").strip()
    if not (1 <= len(launch_key) <= 128):
        launch_key = uuid.uuid4().hex

    def again(errors: dict[str, str], message: str, status_code: int) -> Response:
        return _launch_form(
            tx,
            principal,
            pack,
            values=shown,
            errors=errors,
            error=message,
            title=title,
            is_drill=is_drill,
            launch_key=launch_key,
            status_code=status_code,
        )

    if errors:
        return again(errors, "入力内容を確認してください", 422)
    try:
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            result = service.launch(
                session=session,
                org_id=org_id,
                pack=pack,
                params=params,
                launch_key=launch_key,
                actor_label=principal.label,
                clock=ctx.clock,
                title=title or None,
                is_drill=is_drill,
            )
            incident_id = result.incident.id
            created = result.created
    except ValidationFailed as exc:
        return again(_field_errors(pack, exc), exc.message_ja, exc.http_status)
    notice = "launched" if created else "exists"
    return RedirectResponse(f"{PATH}/{incident_id}?notice={notice}", status_code=303)
