"""Far-off days in the audit log's filters (issue 14, point 4): refused beside the
field with 422, never a 500; the days at both ends of the range are taken."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import login
from vle.admin import services
from vle.errors import Invalid

OUT_OF_RANGE = "is out of range: choose a day from 1900-01-01 to 2999-12-31"


@pytest.mark.parametrize(
    ("query", "name", "day"),
    [
        ("until=9999-12-31", "until", "9999-12-31"),
        ("since=0001-01-01", "since", "0001-01-01"),
        ("since=1899-12-31&until=2024-01-01", "since", "1899-12-31"),
        ("since=2024-01-01&until=3000-01-01", "until", "3000-01-01"),
    ],
)
def test_a_far_off_day_is_a_form_error_not_a_500(client, world, query, name, day):
    login(client, "net@example.org")
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and f"“{day}” {OUT_OF_RANGE}" in page
    assert f'id="{name}-error"' in page


def test_a_date_past_the_calendar_is_not_a_date(client, world):
    login(client, "net@example.org")
    response = client.get("/admin/audit?until=10000-01-01")
    assert response.status_code == 422 and "Not a valid date" in response.get_data(as_text=True)


def test_the_days_at_both_ends_of_the_range_are_taken(client, world):
    login(client, "net@example.org")
    response = client.get("/admin/audit?since=1900-01-01&until=2999-12-31")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'min="1900-01-01"' in page and 'max="2999-12-31"' in page  # the date inputs say so


@pytest.mark.parametrize("day", [date(1, 1, 1), date(9999, 12, 31)])
def test_the_service_refuses_a_far_off_day_too(session, world, day):
    with pytest.raises(Invalid) as refused:
        services.audit_page(session, world.network, until=day)
    assert OUT_OF_RANGE in str(refused.value.message)
