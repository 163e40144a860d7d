"""Reading an area's routes from the app's URL map, for the tests that ask every
route of an area as people who may not use it (tests/authoring and
tests/community test_route_permissions.py): a new route is asked without
anyone having to list it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.routing import AnyConverter, Rule

from tests.conftest import post_form


def rules_under(app: Flask, prefix: str, at_least: int) -> list[Rule]:
    """The rules whose path starts with `prefix`, in path order; fewer than
    `at_least` means the area's blueprint is no longer registered."""
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(prefix)]
    assert len(rules) >= at_least, f"the routes under {prefix} are missing from the URL map"
    return sorted(rules, key=lambda r: r.rule)


def url_of(app: Flask, rule: Rule, value: Callable[[Rule, str], Any]) -> str:
    """The rule's URL, each parameter filled by `value(rule, name)`; a parameter
    that takes one of fixed words (`any(csv, json)`) gets the first of them, one the
    rule fixes (`defaults={"fmt": "csv-excel"}`) its value."""
    fixed = rule.defaults or {}
    values = {
        name: fixed[name]
        if name in fixed
        else sorted(converter.items)[0]
        if isinstance(converter := rule._converters[name], AnyConverter)
        else value(rule, name)
        for name in rule.arguments
    }
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, values, method=next(iter(rule.methods or {"GET"})))


def methods(rule: Rule) -> list[str]:
    """The methods a person's browser uses on the rule: GET and POST."""
    return sorted((rule.methods or set()) & {"GET", "POST"})


def ask(client: Any, method: str, url: str) -> Any:
    """GET the URL, or POST an empty form to it (with its CSRF token)."""
    answer = client.get(url) if method == "GET" else post_form(client, url, {})
    # A streamed download keeps its request's context (and so its signed-in
    # user) until the response is closed: close it, as a browser's connection
    # would be, or the next client's request would run as that user.
    answer.get_data()
    answer.close()
    return answer


def unknown(rule: Rule, name: str) -> AssertionError:
    """What a test says of a parameter it cannot fill."""
    return AssertionError(f"{rule.rule}: teach this test the parameter “{name}”")
