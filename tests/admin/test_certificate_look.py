"""An organisation on its certificates: its administrators upload or remove its
logo and signature image (PNG or JPEG, checked by content) and name its signatory."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import csrf_token, login
from vle import uploads
from vle.accounts.models import Organisation
from vle.admin import services
from vle.audit import AuditEntry
from vle.errors import Forbidden


def _image(kind: str, size: tuple[int, int] = (90, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, format=kind)
    return out.getvalue()


def _post(client, org, **fields):
    """The page's certificate form, posted as multipart. Encoded in memory (as
    tests/authoring/test_files.py's `send`): the test client would spool a large
    body to a temporary file it never closes."""
    path = f"/admin/organisations/{org.id}"
    values = {"csrf_token": csrf_token(client, path), "signatory": ""}
    for name, value in fields.items():
        if isinstance(value, tuple):
            value = FileStorage(io.BytesIO(value[1]), filename=value[0])
        values[name] = value
    boundary, body = encode_multipart(values)
    return client.post(
        f"{path}/certificate", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def _fresh(session, org) -> Organisation:
    session.rollback()
    session.expire_all()
    return session.get(Organisation, org.id)


def test_an_administrator_uploads_a_logo_and_signature_and_names_the_signatory(
    app, client, session, world
):
    login(client, "sch-admin@example.org")
    page = client.get(f"/admin/organisations/{world.sch.id}").get_data(as_text=True)
    for label in ("On certificates", "Logo", "Signature image", "Signatory"):
        assert label in page
    png, jpeg = _image("PNG"), _image("JPEG")
    response = _post(client, world.sch, logo=("logo.png", png), signature=("sig.jpg", jpeg),
                     signatory="Dr. Rūta Kazlauskienė, direktorė")  # fmt: skip
    assert response.status_code == 302
    org = _fresh(session, world.sch)
    assert uploads.read(app.instance_path, org.logo) == png
    assert uploads.read(app.instance_path, org.signature) == jpeg
    assert org.signatory == "Dr. Rūta Kazlauskienė, direktorė"
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "organisation.certificate")
    )
    assert entry.target_id == org.id and entry.details == {
        "changed": ["logo", "signature", "signatory"]
    }
    page = client.get(f"/admin/organisations/{org.id}").get_data(as_text=True)
    assert "The logo now" in page and "Remove the logo" in page
    # The page shows the directory's logo (one route serves it) and its own signature.
    logo_url = f"/network/organisations/{org.code}/logo"
    assert f'src="{logo_url}"' in page
    image = client.get(logo_url)
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == png
    signature_url = f"/admin/organisations/{org.id}/signature"
    assert f'src="{signature_url}"' in page
    image = client.get(signature_url)
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data == jpeg
    assert client.get(f"/admin/organisations/{org.id}/images/logo").status_code == 404
    # Removed: the certificates go without it.
    assert _post(client, org, remove_logo="y", signatory=org.signatory).status_code == 302
    org = _fresh(session, world.sch)
    assert org.logo is None and org.signature is not None
    assert client.get(logo_url).status_code == 404
    assert "The logo now" not in client.get(f"/admin/organisations/{org.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (("logo.gif", b"GIF89a" + b"\x00" * 20), "Only a PNG or JPEG image is accepted."),
        (("logo.png", b"<svg onload=alert(1)>"), "This kind of file is not accepted."),
        (("logo.png", _image("PNG")[:60]), "The image cannot be read"),
        (("logo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 * 1024 * 1024)), "at most 2 MB"),
    ],
)
def test_anything_but_a_readable_png_or_jpeg_is_refused_and_changes_nothing(
    client, session, world, upload, message
):
    login(client, "sch-admin@example.org")
    response = _post(client, world.sch, signature=upload, signatory="Someone")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    org = _fresh(session, world.sch)
    assert (org.signature, org.signatory) == (None, "")
    assert (
        session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.certificate"))
        is None
    )


def test_only_administrators_with_the_organisation_in_scope(app, client, session, world):
    world.sch.signature = uploads.store(app.instance_path, _image("PNG"))
    session.commit()
    login(client, "kra-admin@example.org")
    assert _post(client, world.sch, signatory="Intruder").status_code == 404
    assert client.get(f"/admin/organisations/{world.sch.id}/signature").status_code == 404
    with pytest.raises(Forbidden):
        services.update_certificate_look(
            session, world.kra_admin, world.sch, app.instance_path, signatory="x"
        )
    assert _fresh(session, world.sch).signatory == ""
    login(client, "net@example.org")  # a network administrator: any organisation
    assert client.get(f"/admin/organisations/{world.sch.id}/signature").status_code == 200
    assert _post(client, world.sch, signatory="Ona").status_code == 302
    assert _fresh(session, world.sch).signatory == "Ona"
