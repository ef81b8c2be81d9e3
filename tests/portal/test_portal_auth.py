"""Sign-in, sessions, lockout, CSRF and the authorisation rules, over HTTP against the real app."""

from __future__ import annotations

import pytest
from portal_testkit import AGENCY_A, AGENCY_B, PASSWORD, Portal, csrf_of, record, sign_in

pytestmark = pytest.mark.integration


def link(code: str) -> str:
    return f'href="/dossiers/{code}"'


PAGES = [
    "/",
    "/upload",
    "/uploads",
    "/dossiers",
    f"/dossiers/{AGENCY_A}-260105-0001",
    "/documents/1",
    "/documents/1/pages/1.png",
    "/reports",
    "/reports/kpi/",
    "/reports/data-docs/index.html",
    "/admin",
    "/uploads/abc",
    "/uploads/abc/status",
]


@pytest.mark.parametrize("path", PAGES)
def test_no_page_without_sign_in(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_no_write_without_sign_in(client) -> None:
    assert client.put("/uploads/abc/files", content=b"%PDF-1.4").status_code == 401
    assert client.post("/uploads", data={"target": "inbox"}).status_code == 401
    assert client.post("/admin/users", data={"username": "x"}).status_code == 401


def test_health_and_sign_in_page_are_public(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    page = client.get("/login")
    assert page.status_code == 200
    assert "Đăng nhập" in page.text  # Vietnamese first


def test_sign_in_opens_a_session_and_sign_out_ends_it(portal: Portal, client) -> None:
    portal.add_user("can.bo.a", "can_bo", AGENCY_A)
    response = sign_in(client, "can.bo.a")
    assert response.status_code == 303
    cookie = response.cookies.get("sohoa_portal_session")
    assert cookie
    assert "httponly" in response.headers["set-cookie"].lower()
    # The database keeps the token's hash only.
    assert portal.query("SELECT count(*) FROM portal.session WHERE token_sha256 = %s", cookie) == [(0,)]
    page = client.get("/uploads")
    assert page.status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    assert client.get("/uploads").status_code == 303
    actions = [a for (a,) in portal.query("SELECT action FROM portal.audit_log ORDER BY id")]
    assert actions[0] == "login"
    assert "logout" in actions


def test_wrong_password_is_refused_and_lockout_follows_repeated_failures(portal: Portal, client) -> None:
    user_id = portal.add_user("kiem.tra", "kiem_tra")
    for _ in range(portal.portal_settings.max_failed_logins):
        response = sign_in(client, "kiem.tra", "wrong-password-1")
        assert response.status_code == 401
    locked = sign_in(client, "kiem.tra", PASSWORD)  # the right password, but the account is locked
    assert locked.status_code == 401
    assert "tạm khóa" in locked.text
    assert client.get("/dossiers").status_code == 303
    # An administrator unlocks it.
    portal.add_user("quan.tri", "quan_tri")
    with portal.client() as admin:
        sign_in(admin, "quan.tri")
        token = csrf_of(admin.get("/admin").text)
        assert admin.post(f"/admin/users/{user_id}/unlock", data={"csrf_token": token}).status_code == 303
    assert sign_in(client, "kiem.tra").status_code == 303
    outcomes = portal.query(
        "SELECT outcome FROM portal.audit_log WHERE action = 'login' AND user_id = %s ORDER BY id", user_id
    )
    assert [o for (o,) in outcomes] == ["bad_credentials"] * 2 + ["locked", "locked", "ok"]


def test_unknown_user_and_disabled_user_cannot_sign_in(portal: Portal, client) -> None:
    assert sign_in(client, "nobody").status_code == 401
    admin_id = portal.add_user("quan.tri", "quan_tri")
    officer_id = portal.add_user("can.bo", "can_bo", AGENCY_A)
    with portal.client() as admin:
        sign_in(admin, "quan.tri")
        token = csrf_of(admin.get("/admin").text)
        assert admin.post(f"/admin/users/{officer_id}/disable", data={"csrf_token": token}).status_code == 303
        refused = admin.post(f"/admin/users/{admin_id}/disable", data={"csrf_token": token})
        assert refused.status_code == 400  # an administrator cannot lock themselves out
    response = sign_in(client, "can.bo")
    assert response.status_code == 401
    assert "vô hiệu hóa" in response.text


def test_sign_in_form_needs_its_csrf_token(portal: Portal, client) -> None:
    portal.add_user("can.bo", "can_bo", AGENCY_A)
    client.get("/login")
    response = client.post("/login", data={"username": "can.bo", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403
    assert "sohoa_portal_session" not in response.cookies


def test_state_changes_need_the_session_csrf_token(signed_in) -> None:
    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    assert officer.post("/uploads", data={"target": "inbox"}).status_code == 403
    assert officer.post("/uploads", data={"target": "inbox", "csrf_token": "x" * 43}).status_code == 403
    started = officer.post("/uploads", data={"target": "inbox", "csrf_token": token})
    assert started.status_code == 201
    upload_id = started.json()["id"]
    assert officer.put(f"/uploads/{upload_id}/files", content=b"x").status_code == 403
    assert (
        officer.put(f"/uploads/{upload_id}/files", content=b"x", headers={"X-CSRF-Token": "forged"}).status_code == 403
    )
    assert officer.post(f"/uploads/{upload_id}/finish").status_code == 403
    assert officer.post("/logout").status_code == 403
    admin, admin_token = signed_in("quan.tri", "quan_tri")
    assert (
        admin.post("/admin/users", data={"username": "x.y.z", "password": PASSWORD, "role": "kiem_tra"}).status_code
        == 403
    )


def test_officer_sees_only_their_agency(portal: Portal, signed_in) -> None:
    own, other = f"{AGENCY_A}-260105-0001", f"{AGENCY_B}-260105-0002"
    portal.load_records(record(own, AGENCY_A), record(other, AGENCY_B))
    officer, _ = signed_in("can.bo.a", "can_bo", AGENCY_A)
    listing = officer.get("/dossiers").text
    assert link(own) in listing
    assert link(other) not in listing
    assert link(other) not in officer.get("/dossiers", params={"code": other}).text
    assert officer.get(f"/dossiers/{own}").status_code == 200
    refused = officer.get(f"/dossiers/{other}")
    assert refused.status_code == 403
    assert "không có quyền" in refused.text
    # Not even by the agency filter, which officers do not have.
    assert link(other) not in officer.get("/dossiers", params={"agency": AGENCY_B}).text
    reviewer, _ = signed_in("kiem.tra", "kiem_tra")
    both = reviewer.get("/dossiers").text
    assert link(own) in both
    assert link(other) in both
    assert reviewer.get(f"/dossiers/{other}").status_code == 200
    audit = portal.query("SELECT outcome FROM portal.audit_log WHERE action = 'dossier.view' AND target = %s", other)
    assert ("forbidden",) in audit
    assert ("ok",) in audit


def test_officer_cannot_upload_for_another_agency(portal: Portal, signed_in) -> None:
    other = f"{AGENCY_B}-260105-0002"
    portal.load_records(record(other, AGENCY_B))
    officer, token = signed_in("can.bo.a", "can_bo", AGENCY_A)
    response = officer.post("/uploads", data={"target": "dossier", "ma_ho_so": other, "csrf_token": token})
    assert response.status_code == 403
    # A dossier whose record has not arrived yet: the agency part of the code decides.
    assert (
        officer.post(
            "/uploads", data={"target": "dossier", "ma_ho_so": f"{AGENCY_B}-260105-0009", "csrf_token": token}
        ).status_code
        == 403
    )
    assert (
        officer.post(
            "/uploads", data={"target": "dossier", "ma_ho_so": f"{AGENCY_A}-260105-0009", "csrf_token": token}
        ).status_code
        == 201
    )


def test_officer_cannot_follow_another_agency_upload(signed_in) -> None:
    a, token_a = signed_in("can.bo.a", "can_bo", AGENCY_A)
    upload_id = a.post("/uploads", data={"target": "inbox", "csrf_token": token_a}).json()["id"]
    b, token_b = signed_in("can.bo.b", "can_bo", AGENCY_B)
    assert b.get(f"/uploads/{upload_id}").status_code == 404
    assert b.get(f"/uploads/{upload_id}/status").status_code == 404
    assert b.put(f"/uploads/{upload_id}/files", content=b"x", headers={"X-CSRF-Token": token_b}).status_code == 404


def test_admin_pages_are_for_administrators_only(portal: Portal, signed_in) -> None:
    officer, _ = signed_in("can.bo", "can_bo", AGENCY_A)
    reviewer, reviewer_token = signed_in("kiem.tra", "kiem_tra")
    admin, admin_token = signed_in("quan.tri", "quan_tri")
    assert officer.get("/admin").status_code == 403
    assert reviewer.get("/admin").status_code == 403
    assert (
        reviewer.post(
            "/admin/users",
            data={"username": "new.user", "password": PASSWORD, "role": "quan_tri", "csrf_token": reviewer_token},
        ).status_code
        == 403
    )
    assert "Quản trị" not in officer.get("/dossiers").text  # no link to what they may not open
    assert admin.get("/admin").status_code == 200
    created = admin.post(
        "/admin/users",
        data={
            "username": "can.bo.moi",
            "password": PASSWORD,
            "role": "can_bo",
            "ma_co_quan": AGENCY_B,
            "csrf_token": admin_token,
        },
    )
    assert created.status_code == 303
    weak = admin.post(
        "/admin/users", data={"username": "weak.user", "password": "123", "role": "kiem_tra", "csrf_token": admin_token}
    )
    assert weak.status_code == 400
    assert "ít nhất" in weak.text
    catalogue = admin.post(
        "/admin/catalogue",
        data={"kind": "agencies", "csrf_token": admin_token},
        files={"file": ("agencies.csv", b"MaCoQuan,TenCoQuan,Cap,MaCoQuanCha\n", "text/csv")},
    )
    assert catalogue.status_code == 200
    assert "catalogue/agencies.csv" in portal.landing_keys()
    assert (
        reviewer.post(
            "/admin/catalogue",
            data={"kind": "agencies", "csrf_token": reviewer_token},
            files={"file": ("agencies.csv", b"x", "text/csv")},
        ).status_code
        == 403
    )
    no_agency = admin.post(
        "/admin/users",
        data={"username": "no.agency", "password": PASSWORD, "role": "can_bo", "csrf_token": admin_token},
    )
    assert no_agency.status_code == 400


def test_data_docs_are_for_reviewers_only(signed_in) -> None:
    officer, _ = signed_in("can.bo", "can_bo", AGENCY_A)
    assert officer.get("/reports/data-docs/index.html").status_code == 403
    assert "GX Data Docs" not in officer.get("/reports").text


def test_next_parameter_cannot_send_users_to_another_site(portal: Portal, client) -> None:
    portal.add_user("can.bo", "can_bo", AGENCY_A)
    page = client.get("/login", params={"next": "//evil.example/x"})
    response = client.post(
        "/login",
        data={"username": "can.bo", "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": "//evil.example/x"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_an_idle_or_expired_session_ends(portal: Portal) -> None:
    portal.add_user("can.bo", "can_bo", AGENCY_A)
    with portal.client() as client:
        assert sign_in(client, "can.bo").status_code == 303
        assert client.get("/uploads").status_code == 200
        # Last seen longer ago than the idle limit (8 hours by default).
        portal.query("UPDATE portal.session SET last_seen_at = now() - interval '9 hours'")
        assert client.get("/uploads").status_code == 303
        assert sign_in(client, "can.bo").status_code == 303
        portal.query("UPDATE portal.session SET expires_at = now() - interval '1 second'")
        assert client.get("/uploads").status_code == 303
