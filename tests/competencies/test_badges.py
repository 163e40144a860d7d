"""Badges (issue 16, point 10): Open Badges 2.0 hosted assertions and Open
Badges 3.0 credentials (VC-JWT, RS256) for proficient competencies and
completed courses; revoked on erasure; verified on a public page."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from PIL import Image
from sqlalchemy import select

from tests.conftest import csrf_token, login
from vle.admin import services as admin
from vle.competencies import badges, services
from vle.competencies.models import Badge, Competency, CompetencyLink, Framework
from vle.learning import services as learning
from vle.learning.models import Completion

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:5000"  # TestConfig's VLE_BASE_URL


def _framework(session):
    framework = Framework(
        code="PSCI", title="Public-sector cooperation", scale=["no", "yes", "expert"],
        proficient=["yes", "expert"], default_value="yes",
    )  # fmt: skip
    session.add(framework)
    session.flush()
    competency = Competency(
        framework_id=framework.id, code="PS-COOP", title="Cooperation between organisations",
        description="Working with other bodies.",
    )  # fmt: skip
    session.add(competency)
    session.flush()
    return framework, competency


@pytest.fixture
def world(app, session, make_org, make_user, make_course):
    org = make_org("CITY", name="City")
    learner = make_user(org=org, email="ona@example.org", name="Ona Petraitienė")
    other = make_user(org=org, email="jonas@example.org")
    admin_user = make_user(role="admin", org=org, email="boss@example.org", network=True)
    trainer = make_user(role="trainer", org=org, email="trainer@example.org")
    course = make_course(
        slug="fire-safety", title="Fire safety", lessons=1, validity_months=12, trainers=[trainer]
    )
    _, competency = _framework(session)
    session.add(CompetencyLink(course_id=course.id, competency_id=competency.id))
    session.commit()
    with app.app_context():
        learning.enrol(session, learner, course)
        for item in course.items:
            learning.complete_item(session, learner, course, item, T0)
        session.commit()

    class World:
        pass

    w = World()
    w.learner, w.other, w.admin, w.trainer = learner, other, admin_user, trainer
    w.course, w.competency = course, competency
    w.completion = session.scalar(select(Completion).where(Completion.user_id == learner.id))
    w.course_badge = session.scalar(select(Badge).where(Badge.completion_id == w.completion.id))
    w.competency_badge = session.scalar(
        select(Badge).where(Badge.competency_id == competency.id, Badge.user_id == learner.id)
    )
    return w


def _path(url: str) -> str:
    assert url.startswith(BASE), url
    return url[len(BASE) :]


# --- issuing ---------------------------------------------------------------------------------


def test_completion_and_proficiency_issue_badges(app, session, world):
    course_badge, competency_badge = world.course_badge, world.competency_badge
    assert course_badge is not None and competency_badge is not None
    assert course_badge.name == "Fire safety" and course_badge.revoked_at is None
    assert competency_badge.name == "Cooperation between organisations"
    assert "PS-COOP" in competency_badge.criteria
    # Salted hash of the e-mail, per Open Badges 2.0; unguessable, distinct uids and salts.
    for badge in (course_badge, competency_badge):
        expected = hashlib.sha256(("ona@example.org" + badge.recipient_salt).encode()).hexdigest()
        assert badge.recipient_hash == "sha256$" + expected
        assert len(badge.uid) >= 32
    assert course_badge.uid != competency_badge.uid
    assert course_badge.recipient_salt != competency_badge.recipient_salt
    with app.app_context():
        assert badges.badges_of(session, world.learner.id) == {
            world.competency.id: badges.BadgeLinks(
                f"{BASE}/badges/assertions/{competency_badge.uid}",
                f"{BASE}/badges/assertions/{competency_badge.uid}/credential",
            )
        }
        assert badges.course_badge(session, world.completion.id) == badges.links(course_badge)
        assert badges.badges_of(session, world.other.id) == {}


def test_the_course_badge_expires_with_the_completion(world):
    # validity_months: 12 → the completion's expiry, and the badge's.
    assert world.completion.expires_at == datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
    assert world.course_badge.expires_at == world.completion.expires_at
    assert world.competency_badge.expires_at is None


def test_a_course_without_validity_gives_a_badge_without_expiry(app, session, world, make_course):
    plain = make_course(slug="plain", lessons=1)
    with app.app_context():
        learning.enrol(session, world.learner, plain)
        learning.complete_item(session, world.learner, plain, plain.items[0], T0)
        session.commit()
    completion = session.scalar(select(Completion).where(Completion.course_id == plain.id))
    badge = session.scalar(select(Badge).where(Badge.completion_id == completion.id))
    assert badge is not None and badge.expires_at is None


def test_a_rating_that_falls_revokes_and_rising_again_reinstates(app, session, world):
    badge = world.competency_badge
    with app.app_context():
        services.rate(session, world.trainer, world.learner, world.competency, "no", "Not yet")
        session.commit()
        session.refresh(badge)
        assert badge.revoked_at is not None
        assert badges.badges_of(session, world.learner.id) == {}
        services.rate(session, world.trainer, world.learner, world.competency, "expert", "Fine")
        session.commit()
        session.refresh(badge)
        assert badge.revoked_at is None and badge.revocation_reason is None
        assert set(badges.badges_of(session, world.learner.id)) == {world.competency.id}
    # One badge per learner and competency, the same address throughout.
    assert session.query(Badge).filter(Badge.competency_id == world.competency.id).count() == 1


# --- Open Badges 2.0 ---------------------------------------------------------------------------


def test_assertion_badge_class_and_issuer_are_json_ld(client, world):
    badge = world.course_badge
    response = client.get(f"/badges/assertions/{badge.uid}")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assertion = json.loads(response.get_data(as_text=True))
    assert assertion["@context"] == "https://w3id.org/openbadges/v2"
    assert assertion["type"] == "Assertion"
    assert assertion["id"] == f"{BASE}/badges/assertions/{badge.uid}"
    assert assertion["verification"] == {"type": "hosted"}
    assert assertion["recipient"] == {
        "type": "email", "hashed": True, "salt": badge.recipient_salt,
        "identity": badge.recipient_hash,
    }  # fmt: skip
    assert assertion["issuedOn"] == "2026-01-05T09:00:00Z"
    assert assertion["expires"] == "2027-01-05T09:00:00Z"
    assert "ona@example.org" not in response.get_data(as_text=True)

    response = client.get(_path(assertion["badge"]))
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    badge_class = response.get_json(force=True)
    assert badge_class["type"] == "BadgeClass" and badge_class["id"] == assertion["badge"]
    assert badge_class["name"] == "Fire safety"
    assert badge_class["description"] == "A course"
    assert "Fire safety" in badge_class["criteria"]["narrative"]
    image = client.get(_path(badge_class["image"]))
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert Image.open(io.BytesIO(image.data)).size == (256, 256)

    response = client.get(_path(badge_class["issuer"]))
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    issuer = response.get_json(force=True)
    assert issuer["@context"] == "https://w3id.org/openbadges/v2"
    assert issuer["type"] == "Issuer" and issuer["id"] == badge_class["issuer"]
    assert issuer["name"] and issuer["url"] == f"{BASE}/" and issuer["email"]


def test_a_browser_gets_a_page_at_the_assertion_address(client, world):
    response = client.get(
        f"/badges/assertions/{world.course_badge.uid}",
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<h1>Fire safety</h1>" in page and "This badge is valid" in page
    # Not the learner: no baked download offered.
    assert "baked.png" not in page
    login(client, "ona@example.org")
    page = client.get(
        f"/badges/assertions/{world.course_badge.uid}", headers={"Accept": "text/html"}
    ).get_data(as_text=True)
    assert f'href="/badges/assertions/{world.course_badge.uid}/baked.png" download' in page
    assert badges.BadgeLinks("a", "b").baked == "a/baked.png"


def test_unknown_and_malformed_addresses_are_404(client, world):
    assert client.get("/badges/assertions/" + "A" * 32).status_code == 404
    assert client.get("/badges/assertions/short").status_code == 404
    assert client.get("/badges/assertions/" + "A" * 32 + "/credential").status_code == 404
    assert client.get("/badges/keys/nokey.json").status_code == 404


def test_erasing_the_learner_revokes_their_badges_410(app, client, session, world):
    uid = world.course_badge.uid
    with app.app_context():
        admin.erase_user(session, world.admin, world.learner)
        session.commit()
    for path in (f"/badges/assertions/{uid}", f"/badges/assertions/{world.competency_badge.uid}"):
        response = client.get(path)
        assert response.status_code == 410
        body = response.get_json(force=True)
        assert body["revoked"] is True
        assert body["revocationReason"] == "The recipient's personal data was erased."
    assert client.get(f"/badges/assertions/{uid}/credential").status_code == 410
    with app.app_context():
        assert badges.badges_of(session, world.learner.id) == {}
        assert badges.course_badge(session, world.completion.id) is None
    # Nothing of them stays, not even the hash of their address.
    session.expire_all()
    for badge in session.scalars(select(Badge).where(Badge.user_id == world.learner.id)):
        assert badge.recipient_hash == "" and badge.recipient_salt == ""


def test_the_baked_png_holds_the_assertion_url_for_the_learner_only(app, client, world):
    path = f"/badges/assertions/{world.course_badge.uid}/baked.png"
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, "jonas@example.org")
    assert client.get(path).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/my")})
    login(client, "ona@example.org")
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "attachment" in response.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(response.data))
    image.load()
    assert image.text["openbadges"] == f"{BASE}/badges/assertions/{world.course_badge.uid}"
    # The raw chunk is iTXt (uncompressed), as the baking specification says.
    assert b"iTXtopenbadges\x00\x00\x00" in response.data
    # The public image is not baked.
    public = Image.open(io.BytesIO(client.get(path.replace("baked", "image")).data))
    public.load()
    assert "openbadges" not in public.text


# --- Open Badges 3.0 ---------------------------------------------------------------------------


def _credential(client, badge):
    response = client.get(f"/badges/assertions/{badge.uid}/credential")
    assert response.status_code == 200
    assert response.mimetype == "application/vc+jwt"
    return response.get_data(as_text=True)


def _segment(token, index):
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_the_credential_verifies_with_the_key_its_kid_names(client, world):
    badge = world.course_badge
    token = _credential(client, badge)
    header = _segment(token, 0)
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    assert re.fullmatch(rf"{re.escape(BASE)}/badges/keys/[A-Za-z0-9_-]+\.json", header["kid"])
    response = client.get(_path(header["kid"]))
    assert response.status_code == 200
    key_set = KeySet.import_key_set(response.get_json(force=True))
    decoded = jwt.decode(token, key_set, algorithms=["RS256"])
    claims = decoded.claims
    assert claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert claims["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert claims["iss"] == f"{BASE}/badges/issuer" == claims["issuer"]["id"]
    assert claims["jti"] == f"{BASE}/badges/assertions/{badge.uid}/credential" == claims["id"]
    assert claims["nbf"] == int(T0.timestamp())
    assert claims["exp"] == int(datetime(2027, 1, 5, 9, 0, tzinfo=UTC).timestamp())
    assert claims["validUntil"] == "2027-01-05T09:00:00Z"
    subject = claims["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == badge.recipient_hash
    assert subject["achievement"]["name"] == "Fire safety"
    # Every published key is in the full set too.
    all_keys = client.get("/badges/keys.json").get_json(force=True)["keys"]
    assert header["kid"] in {key["kid"] for key in all_keys}
    assert all("d" not in key for key in all_keys)  # never the private part


def test_a_changed_byte_fails_the_signature(client, world):
    token = _credential(client, world.course_badge)
    header = _segment(token, 0)
    key_set = KeySet.import_key_set(client.get(_path(header["kid"])).get_json(force=True))
    head, payload, signature = token.split(".")
    claims = _segment(token, 1)
    claims["credentialSubject"]["achievement"]["name"] = "Fire safetx"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignatureError):
        jwt.decode(f"{head}.{forged}.{signature}", key_set, algorithms=["RS256"])
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    with pytest.raises(BadSignatureError):
        jwt.decode(f"{head}.{payload}.{flipped}", key_set, algorithms=["RS256"])


def test_keys_rotate_old_credentials_still_verify(app, client, world):
    from vle.competencies import keys

    old_token = _credential(client, world.course_badge)
    old_kid = _segment(old_token, 0)["kid"]
    folder = keys.key_folder(app.config)
    assert all((path.stat().st_mode & 0o777) == 0o600 for path in folder.glob("*.pem"))
    new_path = keys.new_key(folder, datetime(2099, 1, 1, tzinfo=UTC))
    try:
        assert new_path.stat().st_mode & 0o777 == 0o600
        new_token = _credential(client, world.course_badge)
        new_kid = _segment(new_token, 0)["kid"]
        assert new_kid != old_kid
        published = {key["kid"] for key in client.get("/badges/keys.json").get_json()["keys"]}
        assert {old_kid, new_kid} <= published
        for token, kid in ((old_token, old_kid), (new_token, new_kid)):
            key_set = KeySet.import_key_set(client.get(_path(kid)).get_json(force=True))
            jwt.decode(token, key_set, algorithms=["RS256"])
        assert "This badge is valid" in _verify(client, old_token)
    finally:
        new_path.unlink()


def test_a_configured_key_file_signs(app, client, world, tmp_path):
    from vle.competencies import keys

    path = keys.new_key(tmp_path / "configured")
    app.config["BADGE_KEY_FILE"] = str(path)
    token = _credential(client, world.course_badge)
    ring = keys.keyring(app.config)
    assert _segment(token, 0)["kid"].endswith(f"/badges/keys/{ring.signing_kid}.json")
    assert ring.signing_kid == keys.RSAKey.import_key(path.read_bytes()).thumbprint()


# --- the verify page -------------------------------------------------------------------------


def _verify(client, text):
    token = csrf_token(client, "/badges/verify")
    response = client.post("/badges/verify", data={"credential": text, "csrf_token": token})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_verify_page_is_public_and_labelled(client):
    response = client.get("/badges/verify")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Verify a badge</h1>" in page
    assert re.search(r'<label for="credential">Credential or badge address</label>', page)


def test_verify_a_good_credential_and_assertion_url(client, world):
    token = _credential(client, world.course_badge)
    page = _verify(client, token)
    assert "This badge is valid" in page and "Fire safety" in page
    assert world.course_badge.recipient_hash in page
    assert "ona@example.org" not in page and "Petraitien" not in page
    page = _verify(client, f"{BASE}/badges/assertions/{world.competency_badge.uid}")
    assert "This badge is valid" in page and "Cooperation between organisations" in page
    # The address the browser used (the request's host) is ours too.
    page = _verify(client, f"http://localhost/badges/assertions/{world.course_badge.uid}")
    assert "This badge is valid" in page


def test_verify_a_tampered_credential(client, world):
    token = _credential(client, world.course_badge)
    head, _payload, signature = token.split(".")
    claims = _segment(token, 1)
    claims["credentialSubject"]["achievement"]["name"] = "Brain surgery"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    page = _verify(client, f"{head}.{forged}.{signature}")
    assert "This credential has been altered" in page and "This badge is valid" not in page


def test_verify_an_expired_credential(app, client, session, world):
    token = _credential(client, world.course_badge)
    with app.app_context():
        verdict = badges.verify(session, token, now=datetime(2027, 1, 6, tzinfo=UTC))
        assert verdict.status == "expired"
        assert badges.verify(session, token, now=datetime(2026, 6, 1, tzinfo=UTC)).valid
    # Through the page: the badge's expiry moved into the past.
    badge = session.get(Badge, world.course_badge.id)
    badge.expires_at = datetime.now(UTC) - timedelta(days=1)
    session.commit()
    page = _verify(client, f"{BASE}/badges/assertions/{badge.uid}")
    assert "This badge has expired" in page and "Expired on" in page


def test_verify_a_revoked_badge(app, client, session, world):
    token = _credential(client, world.course_badge)
    hashed = world.course_badge.recipient_hash
    assert hashed.startswith("sha256$")
    with app.app_context():
        admin.erase_user(session, world.admin, world.learner)
        session.commit()
    page = _verify(client, token)
    assert "This badge was revoked" in page
    assert "The recipient&#39;s personal data was erased." in page
    assert hashed not in page and "<dt>Recipient</dt>" not in page
    page = _verify(client, f"{BASE}/badges/assertions/{world.course_badge.uid}")
    assert "This badge was revoked" in page


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("hello", "neither a badge credential nor a badge address"),
        ("a.b.c", "neither a badge credential nor a badge address"),
        ("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.c2ln", "not issued by this site"),
        ("https://example.com/badges/assertions/" + "A" * 32, "not issued by this site"),
        (f"{BASE}/badges/assertions/" + "A" * 32, "issued no badge with this address"),
        (f"{BASE}/badges/assertions/../../etc", "issued no badge with this address"),
        ("é.ü.ß", "neither a badge credential nor a badge address"),
    ],
)
def test_verify_garbage_says_why_never_500(client, world, text, words):
    assert words in _verify(client, text)


def test_verify_a_credential_from_an_unknown_key(app, client, world, tmp_path):
    from vle.competencies import keys

    token = _credential(client, world.course_badge)
    claims = _segment(token, 1)
    stranger = keys.RSAKey.import_key(keys.new_key(tmp_path / "k").read_bytes())
    kid = f"{BASE}/badges/keys/{stranger.thumbprint()}.json"
    forged = jwt.encode({"alg": "RS256", "kid": kid}, claims, stranger, algorithms=["RS256"])
    assert "signed with a key this site does not publish" in _verify(client, forged)


def test_verify_without_input_is_a_form_error(client):
    token = csrf_token(client, "/badges/verify")
    response = client.post("/badges/verify", data={"credential": "", "csrf_token": token})
    assert response.status_code == 422
    assert "This field is required" in response.get_data(as_text=True)
    # Control characters: refused by the form, with its message, never a 500.
    response = client.post(
        "/badges/verify", data={"credential": "\x00\x01" * 10, "csrf_token": token}
    )
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    # Without the CSRF token: refused, nothing checked.
    assert client.post("/badges/verify", data={"credential": "x"}).status_code == 400


def test_verify_is_rate_limited(client):
    token = csrf_token(client, "/badges/verify")
    statuses = [
        client.post("/badges/verify", data={"credential": "x", "csrf_token": token}).status_code
        for _ in range(61)
    ]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429


# --- the API ------------------------------------------------------------------------------


def test_my_enrolments_carry_the_course_badge(app, client, session, world, token_for, make_course):
    other_course = make_course(slug="not-done", lessons=2)
    with app.app_context():
        learning.enrol(session, world.learner, other_course)
        session.commit()
    response = client.get("/api/v1/me/enrolments", headers=token_for(world.learner))
    assert response.status_code == 200
    lines = {line["course"]: line for line in response.get_json()["enrolments"]}
    uid = world.course_badge.uid
    assert lines["fire-safety"]["badge"] == {
        "assertion": f"{BASE}/badges/assertions/{uid}",
        "credential": f"{BASE}/badges/assertions/{uid}/credential",
    }
    assert lines["not-done"]["badge"] is None
    # The links work as they are given.
    assert client.get(_path(lines["fire-safety"]["badge"]["assertion"])).status_code == 200
    assert client.get(_path(lines["fire-safety"]["badge"]["credential"])).status_code == 200
    # Someone else's enrolments carry none of them.
    other = client.get("/api/v1/me/enrolments", headers=token_for(world.other)).get_json()
    assert other == {"enrolments": []}
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Enrolment"]
    assert set(schema["properties"]["badge"]["properties"]) == {"assertion", "credential"}


def test_my_enrolments_drop_a_revoked_course_badge(app, client, session, world, token_for):
    headers = token_for(world.learner)
    badge = session.get(Badge, world.course_badge.id)
    badge.revoked_at = datetime.now(UTC)
    session.commit()
    [line] = client.get("/api/v1/me/enrolments", headers=headers).get_json()["enrolments"]
    assert line["badge"] is None


def test_cli_new_key_rotates(app, client, runner, world):
    from vle.competencies import keys

    old_kid = _segment(_credential(client, world.course_badge), 0)["kid"]
    result = runner.invoke(["badges", "new-key"])
    assert result.exit_code == 0, result.output
    written = re.search(r"^(\S+\.pem) signs from now on", result.output)
    assert written, result.output
    try:
        new_kid = _segment(_credential(client, world.course_badge), 0)["kid"]
        assert new_kid != old_kid and new_kid.endswith(
            f"/{keys.keyring(app.config).signing_kid}.json"
        )
        assert client.get(_path(old_kid)).status_code == 200  # still published
    finally:
        from pathlib import Path

        Path(written.group(1)).unlink()
    app.config["BADGE_KEY_FILE"] = "/nowhere.pem"
    result = runner.invoke(["badges", "new-key"])
    assert result.exit_code == 1 and "VLE_BADGE_KEY_FILE" in result.output


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.lists(
            st.text(alphabet="ABCDEFabcdef0123456789-_=", max_size=60), min_size=3, max_size=3
        ).map(".".join),
        st.text(max_size=80).map(lambda rest: f"{BASE}/badges/{rest}"),
        st.binary(max_size=200).map(
            lambda raw: ".".join([base64.urlsafe_b64encode(raw).decode().rstrip("=")] * 3)
        ),
    )
)
def test_verify_never_raises(app, session, text):
    with app.app_context():
        verdict = badges.verify(session, text)
    assert verdict.status in badges.STATUS_WORDS and not verdict.valid


def test_keys_made_in_the_same_second_the_later_signs(tmp_path):
    from vle.competencies import keys

    settings = {"INSTANCE_PATH": str(tmp_path)}
    assert keys.keyring(settings, create=False) is None
    folder = keys.key_folder(settings)
    at = datetime(2030, 1, 1, tzinfo=UTC)
    first, second = keys.new_key(folder, at), keys.new_key(folder, at)
    assert first != second and not list(folder.glob(".new-*"))
    assert (folder.stat().st_mode & 0o777) == 0o700
    ring = keys.keyring(settings)
    assert ring.signing_kid == keys.RSAKey.import_key(second.read_bytes()).thumbprint()
    assert len(ring.published) == 2
    first.write_text("not a key")
    with pytest.raises(keys.BadgeKeyError):
        keys.keyring(settings)


def test_verify_with_unreadable_keys_says_unknown_key_not_500(app, client, world):
    token = _credential(client, world.course_badge)
    app.config["BADGE_KEY_FILE"] = "/nowhere/at-all.pem"
    assert "signed with a key this site does not publish" in _verify(client, token)
