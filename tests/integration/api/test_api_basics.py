from __future__ import annotations

from fastapi.testclient import TestClient

from hikeshi.auth.enums import Role
from tests.integration.api.conftest import World, bearer


def test_unauthenticated_gets_coded_401(client: TestClient) -> None:
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "auth.required"


def test_unknown_token_is_refused(client: TestClient) -> None:
    resp = client.get("/api/v1/me", headers=bearer("hk_not-a-real-token"))
    assert resp.status_code == 401
    assert "hk_not" not in resp.text


def test_permission_is_declared_on_route(client: TestClient, world: World) -> None:
    resp = client.post(
        f"/api/v1/orgs/{world.a.org_id}/announcements",
        headers=bearer(world.a.tokens[Role.operator]),
        json={"body": "x"},
    )
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "auth.forbidden"


def test_supervisor_posts_and_lists_announcements(client: TestClient, world: World) -> None:
    h = bearer(world.a.tokens[Role.supervisor])
    resp = client.post(
        f"/api/v1/orgs/{world.a.org_id}/announcements",
        headers=h,
        json={"body": "18時から回収受付を延長します", "severity": "warning"},
    )
    assert resp.status_code == 201, resp.text
    created = resp.json()
    listed = client.get(f"/api/v1/orgs/{world.a.org_id}/announcements", headers=h).json()
    assert listed["data"][0]["id"] == created["id"]
    assert listed["data"][0]["body"] == "18時から回収受付を延長します"


def test_validation_error_names_the_field(client: TestClient, world: World) -> None:
    resp = client.post(
        f"/api/v1/orgs/{world.a.org_id}/announcements",
        headers=bearer(world.a.tokens[Role.supervisor]),
        json={"body": "", "severity": "panic"},
    )
    assert resp.status_code == 422
    fields = resp.json()["error"]["fields"]
    assert "body.body" in fields and "body.severity" in fields


def test_token_shown_once_and_stored_hashed(client: TestClient, world: World) -> None:
    h = bearer(world.a.tokens[Role.manager])
    resp = client.post(
        f"/api/v1/orgs/{world.a.org_id}/tokens",
        headers=h,
        json={"name": "CTI連携", "role": "operator"},
    )
    assert resp.status_code == 201, resp.text
    raw = resp.json()["token"]
    assert raw.startswith("hk_")
    listed = client.get(f"/api/v1/orgs/{world.a.org_id}/tokens", headers=h).json()
    assert all("token" not in t for t in listed)
    assert client.get("/api/v1/me", headers=bearer(raw)).json()["role"] == "operator"
    token_id = resp.json()["id"]
    assert (
        client.delete(f"/api/v1/orgs/{world.a.org_id}/tokens/{token_id}", headers=h).status_code
        == 200
    )
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_token_cannot_exceed_creator_role(client: TestClient, world: World) -> None:
    resp = client.post(
        f"/api/v1/orgs/{world.a.org_id}/tokens",
        headers=bearer(world.a.tokens[Role.manager]),
        json={"name": "x", "role": "admin"},
    )
    assert resp.status_code == 422


def test_ops_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    metrics = client.get("/metrics").text
    assert "hikeshi_http_requests_total" in metrics
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/orgs/{org_id}/announcements" in spec["paths"]
