"""対象製品の確認 through HTTP: right at the range edges, the same shape for both answers with
nothing revealed but the answer, and rate-limited per client and incident (also across
processes through Redis)."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
import redis
from prometheus_client import REGISTRY

from tests.conftest import require_or_skip
from tests.integration.public.conftest import LIMIT, Site, build_site, make_incident

REDIS_URL = os.environ.get("HIKESHI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# (model, serial, affected) as a customer might type them. Stored: KT-200 and KT-200W,
# serials 2301000001〜2306999999, lots 23A and 23B.
EDGES: list[tuple[str, str, bool]] = [
    ("KT-200", "2301000001", True),  # first serial of the range
    ("KT-200", "2306999999", True),  # last serial of the range
    ("KT-200", "2301000000", False),  # one below
    ("KT-200", "2307000000", False),  # one above
    ("KT-200W", "2304123456", True),  # the second model
    ("KT-200", "230100001", False),  # one digit short (sorts inside the range as text)
    ("KT-200", "23010000010", False),  # one digit long
    ("ＫＴ－２００", "２３０１０００００１", True),  # full-width
    ("kt-200w", "2306999999", True),  # lower case
    ("KT 200", "2301-000-001", True),  # spaces and hyphens
    ("KT-200", "23A", True),  # a lot
    ("KT-200", "23b", True),  # a lot, lower case
    ("KT-200", "23C", False),  # another lot
    ("KT-300", "2301000001", False),  # a model not in the list
    ("KT-2000", "2301000001", False),  # a longer model that starts like one in the list
]


def check(site: Site, slug: str, model: str, serial: str) -> dict[str, object]:
    # A new limit window per call: this test is about the answers, not the limit.
    site.clock.advance(timedelta(minutes=1))
    response = site.client.post(f"/n/{slug}/check.json", json={"model": model, "serial": serial})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_answers_at_the_range_edges(site: Site) -> None:
    slug = make_incident(site).public_slug
    wrong = [
        (model, serial)
        for model, serial, affected in EDGES
        if check(site, slug, model, serial)["affected"] is not affected
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("model", "serial", "affected"),
    [("KT-200", "2301000001", True), ("KT-200", "2307000000", False)],
)
def test_form_answers_on_a_page(site: Site, model: str, serial: str, affected: bool) -> None:
    slug = make_incident(site).public_slug
    page = site.client.post(f"/n/{slug}/check", data={"model": model, "serial": serial})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    if affected:
        assert "お客様の製品は対象製品です" in page.text
        assert "無償で新品と交換" in page.text and "返送用の箱" in page.text
    else:
        assert "お客様の製品は対象製品ではありません" in page.text
        assert "本体底面の銘板シール" in page.text
    assert 'href="tel:0120123456"' in page.text


def test_answers_reveal_nothing_but_the_answer(site: Site) -> None:
    slug = make_incident(site).public_slug
    yes = check(site, slug, "KT-200", "2301000001")
    no = check(site, slug, "KT-200", "2307000000")
    assert set(yes) == set(no) == {"affected", "message", "next_steps", "hotline", "hours"}
    assert yes["affected"] is True and no["affected"] is False
    site.clock.advance(timedelta(minutes=1))
    pages = [
        site.client.post(f"/n/{slug}/check", data={"model": "KT-200", "serial": s}).text
        for s in ("2301000001", "2307000000")
    ]
    for text in [str(yes), str(no), *pages]:
        for secret in ("2306999999", "23B", "48000", "48,000", "〜230", "KT-200W", "KT200W"):
            assert secret not in text, secret
        assert "2301000001" not in text  # not even the customer's own serial is echoed
        assert not re.search(r"23\d{8}", text)  # no serial at all


def test_invalid_input_gets_a_japanese_message(site: Site) -> None:
    slug = make_incident(site).public_slug
    both = site.client.post(f"/n/{slug}/check.json", json={"model": "KT-200", "serial": " - "})
    assert both.status_code == 422
    assert both.json()["error"]["code"] == "validation"
    assert both.json()["error"]["message_ja"] == "型番と製造番号の両方を入力してください"
    symbols = site.client.post(f"/n/{slug}/check", data={"model": "KT<200>", "serial": "1"})
    assert symbols.status_code == 422
    assert "英数字で入力してください" in symbols.text
    assert "KT&lt;200&gt;" in symbols.text  # given back, escaped, to be corrected
    shape = site.client.post(f"/n/{slug}/check.json", content=b"not json")
    assert shape.status_code == 422 and "model" in shape.json()["error"]["message_ja"]


def _count(result: str) -> float:
    value = REGISTRY.get_sample_value("hikeshi_serial_checks_total", {"result": result})
    return value or 0.0


def test_rate_limit_answers_429_then_allows_again(site: Site) -> None:
    incident = make_incident(site)
    other = make_incident(site)
    url = f"/n/{incident.public_slug}/check.json"
    body = {"model": "KT-200", "serial": "2301000001"}
    before = {r: _count(r) for r in ("affected", "not_affected", "invalid", "limited")}

    site.clock.advance(timedelta(seconds=15))
    answers = [site.client.post(url, json=body) for _ in range(LIMIT - 1)]
    answers.append(site.client.post(url, json={"model": "", "serial": "x"}))  # invalid counts
    assert [a.status_code for a in answers] == [200] * (LIMIT - 1) + [422]

    refused = site.client.post(url, json=body)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "45"
    assert refused.headers["cache-control"] == "no-store"
    error = refused.json()["error"]
    assert error["code"] == "rate_limited" and "45秒" in error["message_ja"]
    page = site.client.post(f"/n/{incident.public_slug}/check", data=body)
    assert page.status_code == 429 and page.headers["retry-after"] == "45"
    assert "確認の回数が上限に達しました" in page.text and "0120-123-456" in page.text

    # Per incident: the same client may still check another incident.
    assert site.client.post(f"/n/{other.public_slug}/check.json", json=body).status_code == 200

    site.clock.advance(timedelta(seconds=44))
    assert site.client.post(url, json=body).status_code == 429
    site.clock.advance(timedelta(seconds=1))
    assert site.client.post(url, json=body).status_code == 200

    assert _count("affected") - before["affected"] == LIMIT - 1 + 2
    assert _count("invalid") - before["invalid"] == 1
    assert _count("limited") - before["limited"] == 3
    metrics = site.client.get("/metrics").text
    assert 'hikeshi_serial_checks_total{result="limited"}' in metrics


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.redis
def test_two_servers_share_the_limit_through_redis(fresh_db_url: str) -> None:
    require_or_skip(redis_available(), "Redis")
    one = build_site(fresh_db_url, redis_url=REDIS_URL)
    # Both servers read the same time, as real servers would.
    two = build_site(fresh_db_url, redis_url=REDIS_URL, clock=one.clock)
    with one.client, two.client:
        slug = make_incident(one).public_slug
        body = {"model": "KT-200", "serial": "2307000000"}
        codes = [
            (one if i % 2 else two).client.post(f"/n/{slug}/check.json", json=body).status_code
            for i in range(LIMIT + 1)
        ]
        assert codes == [200] * LIMIT + [429]
        one.clock.advance(timedelta(minutes=1))
        assert two.client.post(f"/n/{slug}/check.json", json=body).status_code == 200
