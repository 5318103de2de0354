"""The public notice page (お知らせ): only published versions, the history, the hotline, the
FAQ, drills marked on every screen, unknown pages answered with a bare 404."""

from __future__ import annotations

import re
from datetime import timedelta

from hikeshi.auth.enums import Department
from hikeshi.incidents import notices
from hikeshi.incidents import service as incidents
from hikeshi.incidents.models import NoticeChannel
from hikeshi.playbooks.loader import discover_packs
from tests.integration.public.conftest import Site, close, edit, make_incident, publish

PENDING = "お知らせは準備中です"
DRILL = "このページは訓練用です"


def test_before_publication_only_pending_and_hotline(site: Site) -> None:
    incident = make_incident(site)
    page = site.client.get(f"/n/{incident.public_slug}")
    assert page.status_code == 200
    assert PENDING in page.text
    assert 'href="tel:0120123456"' in page.text and "0120-123-456" in page.text
    assert "毎日9:00〜18:00" in page.text
    # The launch's draft text is not public until approved and published.
    assert "回収・無償交換のお知らせとお詫び" not in page.text
    assert "社内用の件名" not in page.text


def test_page_shows_the_published_version_never_a_draft(site: Site) -> None:
    incident = make_incident(site)
    publish(site, incident)
    url = f"/n/{incident.public_slug}"
    page = site.client.get(url)
    assert PENDING not in page.text
    assert "回収・無償交換のお知らせとお詫び" in page.text
    assert "更新日時：<time>2026/11/20 10:00</time>" in page.text

    site.clock.advance(timedelta(hours=3))
    edit(
        site,
        incident,
        title="【続報】回収のお知らせ",
        body="下書きの本文：まだ承認されていません。",
    )
    page = site.client.get(url)
    assert "まだ承認されていません" not in page.text and "【続報】" not in page.text
    assert "2026/11/20 10:00" in page.text

    publish(site, incident, change_note="回収方法を追記しました")
    page = site.client.get(url)
    assert "まだ承認されていません" in page.text and "【続報】回収のお知らせ" in page.text
    assert "更新日時：<time>2026/11/20 13:00</time>" in page.text
    assert "初回掲載：2026/11/20 10:00" in page.text
    assert "更新履歴（2件）" in page.text


def test_history_lists_every_version_newest_first(site: Site) -> None:
    incident = make_incident(site)
    publish(site, incident)
    site.clock.advance(timedelta(minutes=90))
    edit(site, incident, title="続報", body="第2版の本文")
    publish(site, incident, change_note="対象ロットを追加しました")

    page = site.client.get(f"/n/{incident.public_slug}/history")
    assert page.status_code == 200
    text = page.text
    v2, v1 = text.index("第2版"), text.index("第1版")
    assert v2 < v1
    assert "更新日時：<time>2026/11/20 11:30</time>" in text
    assert "更新日時：<time>2026/11/20 10:00</time>" in text
    assert "対象ロットを追加しました" in text and "初回掲載" in text
    assert "第2版の本文" in text and "回収・無償交換のお知らせとお詫び" in text
    assert "0120-123-456" in text


def test_page_is_mobile_first_local_and_script_free(site: Site) -> None:
    incident = make_incident(site)
    publish(site, incident)
    page = site.client.get(f"/n/{incident.public_slug}")
    assert '<html lang="ja">' in page.text and 'name="viewport"' in page.text
    assert "<script" not in page.text and "app.js" not in page.text
    assert not re.search(r'(src|href|action)="(https?:)?//', page.text)
    assert "/static/public.css" in page.text
    assert site.client.get("/static/public.css").status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "public, max-age=30"
    # FAQ from the pack, as disclosure widgets; the check form because there are ranges.
    assert "<details>" in page.text and "製造番号はどこに書いてありますか" in page.text
    assert f'action="/n/{incident.public_slug}/check"' in page.text
    assert "本体底面の銘板シール" in page.text


def test_no_check_form_without_affected_ranges(site: Site) -> None:
    incident = make_incident(site, pack_id="data_breach")
    page = site.client.get(f"/n/{incident.public_slug}")
    assert page.status_code == 200
    assert "対象製品の確認" not in page.text
    answer = site.client.post(
        f"/n/{incident.public_slug}/check.json", json={"model": "KT200", "serial": "1"}
    )
    assert answer.status_code == 404


def test_drill_banner_on_every_screen(site: Site) -> None:
    drill = make_incident(site, is_drill=True)
    publish(site, drill)
    slug = drill.public_slug
    screens = [
        site.client.get(f"/n/{slug}"),
        site.client.get(f"/n/{slug}/history"),
        site.client.post(f"/n/{slug}/check", data={"model": "KT-200", "serial": "2301000001"}),
        site.client.post(f"/n/{slug}/check", data={"model": "KT-200", "serial": "9"}),
        site.client.post(f"/n/{slug}/check", data={"model": "", "serial": ""}),
        site.client.post(f"/n/{slug}/check", data={"model": "KT-200", "serial": "2301000001"}),
    ]
    assert [s.status_code for s in screens] == [200, 200, 200, 200, 422, 429]
    for screen in screens:
        assert DRILL in screen.text, screen.text
        assert "<title>【訓練】" in screen.text
        assert 'name="robots" content="noindex, nofollow"' in screen.text
    site.clock.advance(timedelta(minutes=1))
    answer = site.client.post(
        f"/n/{slug}/check.json", json={"model": "KT-200", "serial": "2301000001"}
    )
    assert answer.json()["message"].startswith("【訓練】")

    real = make_incident(site)
    page = site.client.get(f"/n/{real.public_slug}")
    assert DRILL not in page.text and "noindex" not in page.text


def test_closed_incident_keeps_its_last_notice(site: Site) -> None:
    incident = make_incident(site)
    publish(site, incident)
    close(site, incident)
    page = site.client.get(f"/n/{incident.public_slug}")
    assert page.status_code == 200
    assert "回収・無償交換のお知らせとお詫び" in page.text
    assert "受付は終了しました" in page.text


def test_unknown_slug_is_a_bare_404(site: Site) -> None:
    make_incident(site)
    for response in (
        site.client.get("/n/not-a-real-slug"),
        site.client.get("/n/not-a-real-slug/history"),
        site.client.get("/n/" + "x" * 40),
        site.client.post("/n/not-a-real-slug/check", data={"model": "a", "serial": "b"}),
    ):
        assert response.status_code == 404
        assert "お探しのページは見つかりませんでした" in response.text
        assert "<script" not in response.text
    api = site.client.post("/n/not-a-real-slug/check.json", json={"model": "a", "serial": "b"})
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"


def test_reloading_the_answer_goes_back_to_the_form(site: Site) -> None:
    incident = make_incident(site)
    response = site.client.get(f"/n/{incident.public_slug}/check")
    assert response.status_code == 303
    assert response.headers["location"] == f"/n/{incident.public_slug}#check"


def test_real_launch_approve_publish_flow(site: Site) -> None:
    """The same through the incident service: launch, approve by every department, publish."""
    pack = discover_packs()["recall"]
    params = {p.name: p.example for p in pack.parameters}
    with site.session() as session:
        incident = incidents.launch(
            session=session,
            org_id=site.org_id,
            pack=pack,
            params=params,
            launch_key="public-flow",
            actor_label="test",
            clock=site.clock,
        ).incident
        session.commit()
        slug, incident_id = incident.public_slug, incident.id
    url = f"/n/{slug}"
    assert PENDING in site.client.get(url).text

    with site.session() as session:
        notice = next(
            n
            for n in notices.list_notices(
                session=session, org_id=site.org_id, incident_id=incident_id
            )
            if n.channel is NoticeChannel.web
        )
        for department in notice.required_departments:
            notices.approve_notice(
                session=session,
                org_id=site.org_id,
                notice_id=notice.id,
                revision=notice.revision,
                department=Department(department),
                user_id=None,
                actor_label="test",
                clock=site.clock,
            )
        session.commit()
        notice_id = notice.id
    assert PENDING in site.client.get(url).text  # approved is not yet published
    with site.session() as session:
        notices.publish_notice(
            session=session,
            org_id=site.org_id,
            notice_id=notice_id,
            actor_label="test",
            clock=site.clock,
        )
        session.commit()
    page = site.client.get(url)
    assert "回収・無償交換のお知らせとお詫び" in page.text
    check = site.client.post(f"{url}/check.json", json={"model": "KT-200", "serial": "2301000001"})
    assert check.json()["affected"] is True
