"""The same report from the API (GET /api/v1/reports/completion) and `vle report completion`."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from vle.api.openapi import openapi_document
from vle.reports.services import JSON_KEYS

URL = "/api/v1/reports/completion"


def assert_error(response, status, code=None):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error", "request_id"} and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]["message"]


def test_api_json_rows_have_the_documented_shape(client, network, token_for):
    response = client.get(URL, headers=token_for(network.users["netadmin"]))
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = json.loads(response.get_data())
    assert body["total"] == 7 and len(body["rows"]) == 7
    assert list(body) == ["rows", "total"]
    sam = next(
        r for r in body["rows"] if r["email"] == "sam@example.org" and r["course"] == "ethics"
    )
    assert tuple(sam) == JSON_KEYS
    assert sam == {
        "learner_name": "Samas Šimkus",
        "email": "sam@example.org",
        "organisation_code": "SCHOOL",
        "organisation_name": "School",
        "course": "ethics",
        "course_title": "Ethics at work",
        "enrolled_at": "2025-01-10T12:00:00Z",
        "status": "completed",
        "progress": 100,
        "completed_at": "2025-02-15T12:00:00Z",
        "best_score": 87.5,
        "competencies": ["ETH-1", "ETH-2"],
        "due": None,
        "overdue": False,
        "expires_at": None,
    }


def test_api_filters_and_csv(client, network, token_for):
    headers = token_for(network.users["netadmin"])
    body = client.get(
        f"{URL}?organisation=MUNI&course=ethics&status=completed&since=2025-02-01&until=2025-03-31",
        headers=headers,
    ).get_json()
    assert sorted(r["email"] for r in body["rows"]) == ["lina@example.org", "sam@example.org"]
    response = client.get(f"{URL}?format=csv&course=safety&sort=learner", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "Learner" and rows[0][7] == "Status"
    assert [r[1] for r in rows[1:]] == ["mona@example.org", "olga@example.org", "sam@example.org"]
    assert {r[7] for r in rows[1:]} == {"Completed", "Not started", "In progress"}


def test_api_csv_headers_in_the_token_owners_language(client, network, token_for, session):
    admin = network.users["netadmin"]
    admin.locale = "lt"
    session.commit()
    data = client.get(f"{URL}?format=csv", headers=token_for(admin)).get_data()
    header = data.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("Besimokantysis,")


def test_api_scoped_admin_never_gets_rows_outside_its_subtree(client, network, token_for):
    headers = token_for(network.users["schooladmin"])
    body = client.get(URL, headers=headers).get_json()
    assert {r["email"] for r in body["rows"]} == {"sam@example.org", "sara@example.org"}
    assert {r["organisation_code"] for r in body["rows"]} == {"SCHOOL"}
    csv_body = client.get(f"{URL}?format=csv", headers=headers).get_data()
    assert b"lina@example.org" not in csv_body and b"olga@example.org" not in csv_body
    for outside in ("MUNI", "OTHER", "NET"):
        response = client.get(f"{URL}?organisation={outside}", headers=headers)
        message = assert_error(response, 403, "forbidden")
        assert "outside your scope" in message


def test_api_learners_and_strangers_are_refused(client, network, token_for):
    assert_error(client.get(URL), 401)
    assert_error(client.get(URL, headers=token_for(network.users["sam"])), 403, "forbidden")
    trainer = token_for(network.users["trainer"])
    assert_error(client.get(f"{URL}?course=safety", headers=trainer), 403)
    body = client.get(URL, headers=trainer).get_json()
    assert {r["course"] for r in body["rows"]} == {"ethics"}


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("organisation=NOPE", "There is no organisation with the code “NOPE”."),
        ("course=nope", "There is no course “nope”."),
        ("since=2025-03-01&until=2025-02-01", "The end of the period is before its start."),
        ("since=01/02/2025", "is not a date"),
        ("status=finished", "Unknown status"),
        ("format=xml", "“format” must be json or csv."),
    ],
)
def test_api_bad_filters_are_422(client, network, token_for, query, words):
    response = client.get(f"{URL}?{query}", headers=token_for(network.users["netadmin"]))
    assert words in assert_error(response, 422, "invalid")


def test_api_route_is_documented():
    document = openapi_document()
    operation = document["paths"]["/api/v1/reports/completion"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"organisation", "course", "since", "until", "status", "format"} <= names
    assert {"200", "401", "403", "422"} <= set(operation["responses"])
    row = document["components"]["schemas"]["CompletionRow"]
    assert tuple(row["properties"]) == JSON_KEYS


# --- the command line --------------------------------------------------------------------


def run(runner, *args):
    return runner.invoke(args=["report", "completion", *args])


def test_cli_writes_csv_xlsx_and_json(runner, network, tmp_path):
    target = tmp_path / "report.csv"
    result = run(runner, "--format", "csv", "-o", str(target), "--sort", "learner")
    assert result.exit_code == 0, result.output
    assert "7 row(s) written" in result.output
    data = target.read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == 8 and rows[0][1] == "Email"
    assert "Europe/Vilnius" in rows[0][6]  # the site's time zone, said in the header
    xlsx = tmp_path / "report.xlsx"
    assert run(runner, "--format", "xlsx", "-o", str(xlsx)).exit_code == 0
    with zipfile.ZipFile(xlsx) as book:
        assert "sam@example.org" in book.read("xl/worksheets/sheet1.xml").decode()
    out = tmp_path / "report.json"
    result = run(runner, "--format", "json", "-o", str(out), "--organisation", "SCHOOL",
                 "--status", "completed")  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text(encoding="utf-8"))
    assert body["total"] == 1 and body["rows"][0]["email"] == "sam@example.org"


def test_cli_sees_the_whole_network_unless_told_otherwise(runner, network, tmp_path):
    out = tmp_path / "all.json"
    assert run(runner, "--format", "json", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text())["total"] == 7
    assert run(runner, "--format", "json", "-o", str(out), "--organisation", "MUNI").exit_code == 0
    emails = {r["email"] for r in json.loads(out.read_text())["rows"]}
    assert emails == {"sam@example.org", "sara@example.org", "lina@example.org", "mona@example.org"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--organisation", "NOPE"], "There is no organisation with the code “NOPE”."),
        (["--course", "nope"], "There is no course “nope”."),
        (["--since", "2025-03-01", "--until", "2025-02-01"], "before its start"),
        (["--since", "March"], "is not a date"),
        (["--status", "done"], "Unknown status"),
        (["--timezone", "Mars/Olympus"], "Unknown time zone"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_1_and_writes_nothing(
    runner, network, tmp_path, args, words
):
    target = tmp_path / "report.csv"
    result = run(runner, "--format", "csv", "-o", str(target), *args)
    assert result.exit_code == 1
    assert words in result.output and "Traceback" not in result.output
    assert not target.exists() and not list(tmp_path.iterdir())


def test_cli_unwritable_target_is_a_clear_error(runner, network, tmp_path):
    result = run(runner, "--format", "csv", "-o", str(tmp_path / "missing" / "report.csv"))
    assert result.exit_code == 1 and "Cannot write" in result.output


def test_api_and_cli_exports_are_in_the_audit_log(
    client, runner, network, token_for, session, tmp_path
):
    from sqlalchemy import select

    from vle.audit import AuditEntry

    client.get(f"{URL}?format=csv&course=ethics", headers=token_for(network.users["netadmin"]))
    assert run(runner, "--format", "json", "-o", str(tmp_path / "r.json")).exit_code == 0
    exports = select(AuditEntry).where(AuditEntry.action == "report.export")  # not token.create
    api, cli = session.scalars(exports.order_by(AuditEntry.id)).all()
    assert (api.details["via"], api.details["format"], api.details["filters"]) == (
        "api", "csv", {"course": "ethics"},
    )  # fmt: skip
    assert api.actor_id == network.users["netadmin"].id and api.organisation_id is None
    assert (cli.details["via"], cli.actor_id, cli.address) == ("cli", None, None)
