"""A report download in the audit log: which report, its filters and its order
in words, never the codes the address carried (`-enrolled`, `status=overdue`)."""

from __future__ import annotations

import re

from tests.conftest import login


def _seen(html: str) -> str:
    """The text a reader sees in the log's table."""
    table = html[html.index("<table") : html.index("</table>")]
    return " ".join(re.sub(r"<[^>]+>", " ", table).split())


def test_a_report_download_is_logged_in_words(client, world):
    login(client, "net@example.org")
    response = client.get(
        "/reports/completion.csv?sort=-enrolled&status=in_progress&since=2026-11-02"
    )
    assert response.status_code == 200
    response.close()
    seen = _seen(client.get("/admin/audit").get_data(as_text=True))
    assert "Report downloaded" in seen
    assert "completion report" in seen
    assert "Enrolled on, descending" in seen
    assert "in progress" in seen
    assert "2 Nov 2026" in seen  # a day as the reader writes it
    for code in ("-enrolled", "in_progress", "status=", "report.export", "2026-11-02"):
        assert code not in seen


def test_a_competency_report_download_names_its_report(client, world):
    login(client, "net@example.org")
    client.get("/reports/competencies.csv?sort=learner").close()
    seen = _seen(client.get("/admin/audit").get_data(as_text=True))
    assert "competency report" in seen and "Learner, ascending" in seen
