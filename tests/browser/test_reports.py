"""An administrator's report journey in a real browser: Reports page, filters, a CSV
download, the dashboard — by accessible role and name, axe-core on every page."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.browser.test_learner import log_in
from tests.reports.conftest import enrol_at, network  # noqa: F401

pytestmark = pytest.mark.browser


def test_admin_filters_the_report_downloads_it_and_reads_the_dashboard(site, network):  # noqa: F811
    page = site.page
    log_in(site, network.users["muniadmin"].email)
    site.follow(page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(1 + 5)  # the municipality's five enrolments
    expect(page.get_by_text("olga@example.org")).to_have_count(0)  # outside its subtree

    page.get_by_label("Organisation").select_option("SCHOOL")
    page.get_by_label("Status").select_option(label="Completed")
    site.follow(page.get_by_role("button", name="Show report"))
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table.get_by_role("rowheader")).to_have_text(["Samas Šimkus"])

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    with open(download.value.path(), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(io.StringIO(file.read())))
    assert [row[1] for row in rows[1:]] == ["sam@example.org"]
    assert rows[1][7] == "Completed"

    site.follow(page.get_by_role("link", name="Dashboard"))
    expect(page.get_by_role("heading", level=2, name="Dashboard: Municipality")).to_be_visible()
    for name in ("Completion rate by organisation", "Completion rate by course"):
        expect(page.get_by_role("table", name=name)).to_be_visible()
    expect(page.get_by_role("img")).to_have_count(3)

    # Bad input: a clear message beside the field, announced.
    site.follow(page.get_by_role("link", name="Completion report", exact=True))
    page.get_by_label("From", exact=True).fill("2025-03-01")
    page.get_by_label("To", exact=True).fill("2025-02-01")
    site.follow(page.get_by_role("button", name="Show report"))
    expect(page.get_by_role("alert")).to_contain_text("The end of the period is before its start.")


def test_a_polish_administrator_on_a_phone_downloads_the_csv_for_excel(site, session, network):  # noqa: F811
    """At 320 px, in Polish: the link named for Excel gives ';'-separated fields with
    decimal commas, in a file named by the filters, that Python's csv module reads in
    that dialect."""
    from datetime import UTC, datetime

    admin = network.users["muniadmin"]
    admin.locale = "pl"
    session.commit()
    page = site.page
    page.set_viewport_size({"width": 320, "height": 800})
    log_in(site, admin.email)
    site.visit("/reports?organisation=SCHOOL&course=ethics")
    expect(page.get_by_role("heading", level=1)).to_have_text("Raporty")
    with page.expect_download() as download:
        page.get_by_role("link", name="Pobierz CSV dla Excela").click()
    today = datetime.now(UTC).date().isoformat()
    assert download.value.suggested_filename == f"completion-school-ethics-{today}.csv"
    with open(download.value.path(), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file, delimiter=";"))
    assert rows[0][0] == "Uczestnik" and all(len(row) == 15 for row in rows)
    sam = next(row for row in rows if row[1] == "sam@example.org")
    assert sam[10] == "87,5"  # the best quiz score, with a decimal comma
