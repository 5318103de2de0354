"""Demo data: two client organisations, one user per role, and a launched recall.

さくら電機 has a live recall of an electric heater (電気ヒーター) with its web notice approved
by 広報 and 法務 and published, so the public page and the serial check work at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department, Role
from hikeshi.auth.models import Organisation, User
from hikeshi.clock import Clock
from hikeshi.incidents import notices
from hikeshi.incidents import service as incidents
from hikeshi.incidents.models import Incident, Notice, NoticeChannel, NoticeStatus
from hikeshi.playbooks.loader import discover_packs
from hikeshi.risks import service as risk_service
from hikeshi.risks.models import Risk

DEMO_PASSWORD = "hikeshi-demo-2026"  # noqa: S105 - printed to the console by `hikeshi demo`


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role
    department: Department | None = None
    org_slugs: tuple[str, ...] | None = None  # None: see the comment in seed_demo


DEMO_ORGS = (("acme-foods", "アクメ食品株式会社"), ("sakura-denki", "さくら電機株式会社"))
DEMO_USERS = (
    DemoUser("operator@demo.hikeshi.jp", "山田 花子", Role.operator),
    DemoUser("supervisor@demo.hikeshi.jp", "佐藤 健", Role.supervisor),
    DemoUser("legal@demo.hikeshi.jp", "鈴木 法子", Role.specialist, Department.legal),
    DemoUser("manager@demo.hikeshi.jp", "高橋 誠", Role.manager),
    DemoUser("admin@demo.hikeshi.jp", "田中 管理", Role.admin),
    # The client's own departments approve its notices (広報 and 法務 of さくら電機).
    DemoUser(
        "koho@sakura.demo.hikeshi.jp",
        "中村 広美",
        Role.specialist,
        Department.pr,
        ("sakura-denki",),
    ),
    DemoUser(
        "homu@sakura.demo.hikeshi.jp",
        "小林 法人",
        Role.specialist,
        Department.legal,
        ("sakura-denki",),
    ),
)
DEMO_RECALL_KEY = "demo-recall-eh-1200"
DEMO_RECALL_PARAMS: dict[str, Any] = {
    "company_name": "さくら電機株式会社",
    "company_short_name": "さくら電機",
    "product_name": "電気ヒーター「ぽかぽか」",
    "model_numbers": "EH-1200、EH-1200W",
    "serial_ranges": ["2409000001〜2409049999"],
    "lots": ["24K", "24L"],
    "serial_location": "本体背面の銘板シール",
    "manufacture_period": "2024年9月〜2024年11月",
    "sales_period": "2024年10月〜2025年2月",
    "affected_units": 49999,
    "defect_description": (
        "電源コード接続部のはんだ付けに不良があり、長時間使用すると接続部が過熱して"
        "発煙・発火に至るおそれがある"
    ),
    "hazard": "発煙・発火のおそれ",
    "accident_summary": (
        "これまでに発煙事故が2件報告されています。けがをされた方はいらっしゃいません"
    ),
    "remedy": "無償で改修品と交換",
    "collection_method": "お申し込み後、交換品をお届けする際に配送業者が対象製品を引き取ります",
    "replacement_lead_time": "お申し込みから約10日",
    "announce_date": "2026-11-20",
    "hotline": "0120-390-120",
    "hours": "毎日9:00〜20:00（土日祝も受付）",
    "web_url": "https://www.sakura-denki.example.jp/recall/eh1200/",
    "short_url": "https://skr.jp/eh",
    "media_contact": "さくら電機株式会社 広報部 03-5555-0101",
    "ceo_name": "代表取締役社長 桜井 一郎",
}


def seed_demo(
    *, sessions: sessionmaker[Session], clock: Clock, password: str = DEMO_PASSWORD
) -> list[DemoUser]:
    """Idempotent: running it twice changes nothing the second time."""
    with sessions() as session:
        set_actor(session, system_actor("demo-seed"))
        org_ids: list[int] = []
        for slug, name in DEMO_ORGS:
            org = session.scalar(select(Organisation).where(Organisation.slug == slug))
            if org is None:
                org = auth_service.create_org(session=session, slug=slug, name=name, clock=clock)
            org_ids.append(org.id)
        for demo in DEMO_USERS:
            if session.scalar(select(User.id).where(User.email == demo.email)) is not None:
                continue
            # The first organisation has the floor staff; the second only manager, admin and
            # its own departments, so the switcher and tenant isolation show in the demo.
            if demo.org_slugs is not None:
                orgs = [org_ids[[slug for slug, _ in DEMO_ORGS].index(s)] for s in demo.org_slugs]
            else:
                orgs = org_ids if demo.role in (Role.manager, Role.admin) else org_ids[:1]
            auth_service.create_user(
                session=session,
                email=demo.email,
                display_name=demo.name,
                password=password,
                role=demo.role,
                department=demo.department,
                org_ids=orgs,
                clock=clock,
            )
        session.commit()
    return list(DEMO_USERS)


# A starting risk register (リスク一覧), imported through the same CSV path customers use.
DEMO_RISKS_CSV = """タイトル,カテゴリ,発生可能性,影響度,担当者,見直し日,対応フロー,備考
製品の発煙・発火によるリコール,技術的,2,5,品質保証部 課長,2027-03-31,recall,年1回の机上訓練を実施
顧客情報の漏えい（委託先経由を含む）,情報セキュリティ,2,5,情報システム部,2027-01-31,data_breach,
基幹システム障害による受付停止,オペレーショナル,3,4,情報システム部,2027-02-28,outage,
首都直下地震によるコールセンター停止,環境,2,4,総務部,2027-06-30,accident_disaster,大阪拠点への切替手順を整備
SNSでの批判の拡散（炎上）,評判,3,3,広報部,2026-12-15,firestorm,
繁忙期の入電急増による応答率低下,オペレーショナル,4,2,センター長,2027-03-31,,
"""


def seed_demo_risks(*, sessions: sessionmaker[Session], clock: Clock) -> None:
    """The same starting register for every demo organisation (idempotent)."""
    with sessions() as session:
        set_actor(session, system_actor("demo-seed"))
        for org_id in session.scalars(select(Organisation.id).order_by(Organisation.id)):
            if session.scalar(select(Risk.id).where(Risk.org_id == org_id).limit(1)):
                continue
            risk_service.import_csv(
                session=session,
                org_id=org_id,
                data=DEMO_RISKS_CSV.encode("utf-8"),
                actor_label="demo-seed",
                clock=clock,
                playbooks=risk_service.playbook_titles(),
            )
        session.commit()


def seed_demo_recall(*, sessions: sessionmaker[Session], clock: Clock) -> Incident:
    """The heater recall of さくら電機, its web notice approved and published (idempotent)."""
    with sessions() as session:
        set_actor(session, system_actor("demo-seed"))
        org_id = session.scalars(
            select(Organisation.id).where(Organisation.slug == "sakura-denki")
        ).one()
        result = incidents.launch(
            session=session,
            org_id=org_id,
            pack=discover_packs()["recall"],
            params=DEMO_RECALL_PARAMS,
            launch_key=DEMO_RECALL_KEY,
            actor_label="manager@demo.hikeshi.jp",
            clock=clock,
        )
        incident = result.incident
        web = session.scalars(
            select(Notice).where(
                Notice.incident_id == incident.id, Notice.channel == NoticeChannel.web
            )
        ).one()
        if web.status is NoticeStatus.draft:
            for email, department in (
                ("koho@sakura.demo.hikeshi.jp", Department.pr),
                ("homu@sakura.demo.hikeshi.jp", Department.legal),
            ):
                if department.value not in notices.missing_departments(session=session, notice=web):
                    continue
                user = session.scalars(select(User).where(User.email == email)).one()
                notices.approve_notice(
                    session=session,
                    org_id=org_id,
                    notice_id=web.id,
                    revision=web.revision,
                    department=department,
                    user_id=user.id,
                    actor_label=email,
                    clock=clock,
                )
        if web.status is NoticeStatus.approved:
            notices.publish_notice(
                session=session,
                org_id=org_id,
                notice_id=web.id,
                actor_label="koho@sakura.demo.hikeshi.jp",
                clock=clock,
                change_note="初版を公開しました",
            )
        session.commit()
        return incident
