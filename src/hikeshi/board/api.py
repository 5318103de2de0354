from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from hikeshi.auth.permissions import Permission
from hikeshi.board import service
from hikeshi.board.schemas import AnnouncementCreate, AnnouncementPublic, AnnouncementsPublic
from hikeshi.deps import CtxDep, CurrentOrg, Require, TxDep
from hikeshi.events.bus import LocalBus

router = APIRouter(prefix="/orgs/{org_id}", tags=["board"])
HEARTBEAT_SECONDS = 15.0


@router.get("/announcements", dependencies=[Depends(Require(Permission.board_view))])
def list_announcements(org: CurrentOrg, tx: TxDep) -> AnnouncementsPublic:
    with tx() as session:
        items = service.list_announcements(session=session, org_id=org.org_id)
        data = [AnnouncementPublic.model_validate(i) for i in items]
    return AnnouncementsPublic(data=data, count=len(data))


@router.post(
    "/announcements", status_code=201, dependencies=[Depends(Require(Permission.board_post))]
)
def post_announcement(
    org: CurrentOrg, body: AnnouncementCreate, tx: TxDep, ctx: CtxDep
) -> AnnouncementPublic:
    with tx() as session:
        item = service.post_announcement(
            session=session,
            org_id=org.org_id,
            author_label=org.principal.label,
            data=body,
            clock=ctx.clock,
        )
        public = AnnouncementPublic.model_validate(item)
    return public


async def sse_stream(request: Request, bus: LocalBus, org_id: int) -> AsyncIterator[str]:
    async with bus.subscribe(org_id) as events:
        yield ": connected\n\n"
        iterator = aiter(events)
        while not await request.is_disconnected():
            try:
                live = await asyncio.wait_for(anext(iterator), timeout=HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ": heartbeat\n\n"  # keeps proxies from closing an idle stream
                continue
            yield f"id: {live.id}\nevent: {live.type}\ndata: {live.to_json()}\n\n"


@router.get(
    "/events",
    dependencies=[Depends(Require(Permission.board_view))],
    response_class=StreamingResponse,
)
async def live_events(org: CurrentOrg, request: Request, ctx: CtxDep) -> StreamingResponse:
    """Server-sent events for the supervisor board of one organisation."""
    return StreamingResponse(
        sse_stream(request, ctx.bus, org.org_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
