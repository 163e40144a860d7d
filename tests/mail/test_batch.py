"""Notifying many people at once (the daily reminders, an assignment's mails):
`notify_many` writes what `notify` would write for each, mail for mail — the
same subject, text and HTML in each person's language, their own name
(escaped in the HTML) and unsubscribe link — while rendering each mail once
per language and context."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from vle.accounts import services as accounts
from vle.mail import services as mail
from vle.mail.models import Notification, OutboxMail

CONTEXT = {"course_title": "Safety & health", "course_url": "https://vle.test/c", "due": None}


def fake_unsubscribe_url(address: str, kind: str) -> str:
    # Deterministic (the real link is signed with the time), with an & to escape.
    return f"https://vle.test/unsubscribe?to={address}&kind={kind}"


def notices(people, key="k", context=CONTEXT, kind="course_assigned"):
    return [
        mail.Notice(
            user_id=person.id,
            to_address=person.email,
            to_name=person.name,
            locale=person.locale,
            kind=kind,
            context=context,
            key=f"{key}:{person.id}",
            url="https://vle.test/c",
        )
        for person in people
    ]


def test_a_batch_writes_what_each_would_get_alone(app, session, make_user, monkeypatch):
    monkeypatch.setattr(mail, "unsubscribe_url", fake_unsubscribe_url)
    monkeypatch.setattr(mail, "_FILLS_LIKE_ALONE", {})
    ona = make_user(name="Ona <b>O'Brien & Co</b>")
    rasa, sam = make_user(name="Rasa"), make_user(name="Sam")
    piotr, kari = make_user(name="Piotr"), make_user(name="Kari")
    accounts.set_locale(rasa, "lt", app.config["LANGUAGES"])
    accounts.set_locale(piotr, "pl", app.config["LANGUAGES"])
    session.commit()
    with app.app_context():
        mail.opt_out(session, piotr.email, "course_assigned")
        mail.set_mail_choice(session, kari.email, "course_assigned", mail.MAIL_DIGEST)
        batch = notices([ona, rasa, sam, piotr, kari])
        mail.notify_many(session, [*batch, batch[0]])  # a key twice: once
        session.commit()
        # Mail for mail what rendering it for the person alone gives.
        mails = {row.to_address: row for row in session.scalars(select(OutboxMail))}
        assert set(mails) == {ona.email, rasa.email, sam.email}  # not opted out, not digest
        for person in (ona, rasa, sam):
            row = mails[person.email]
            alone = mail.render_mail(
                "course_assigned",
                person.locale or "en",
                {
                    **CONTEXT,
                    "to_name": person.name,
                    "unsubscribe_url": fake_unsubscribe_url(person.email, "course_assigned"),
                },
            )
            assert (row.subject, row.text_body, row.html_body) == alone
            assert row.notification and row.locale == (person.locale or "en")
        assert mail._FILLS_LIKE_ALONE[("course_assigned", "en", True)] is True
    assert "Ona <b>O'Brien & Co</b>" in mails[ona.email].text_body
    assert "Ona &lt;b&gt;O&#39;Brien &amp; Co&lt;/b&gt;" in mails[ona.email].html_body
    assert "<b>O" not in mails[ona.email].html_body
    assert "?to=sam1" not in mails[ona.email].html_body
    assert f"to={sam.email}&amp;kind=course_assigned" in mails[sam.email].html_body
    assert "Safety &amp; health" in mails[sam.email].html_body
    assert "Jums paskirtas kursas „Safety & health“" in mails[rasa.email].text_body
    # A notification for everyone, titled with the mail's subject in their language.
    titles = {row.user_id: row for row in session.scalars(select(Notification))}
    assert len(titles) == 5
    assert titles[rasa.id].title == mails[rasa.email].subject
    assert titles[kari.id].digest_pending and not titles[piotr.id].digest_pending
    # The same batch again writes nothing more.
    with app.app_context():
        mail.notify_many(session, batch)
        session.commit()
    assert len(session.scalars(select(OutboxMail)).all()) == 3
    assert len(session.scalars(select(Notification)).all()) == 5


def test_a_template_that_does_more_with_the_name_is_rendered_for_each(
    app, session, make_user, monkeypatch
):
    render = mail.render_mail

    def shouting(kind, locale, context):  # a template printing the name in capitals
        return render(kind, locale, {**context, "to_name": context["to_name"].upper()})

    monkeypatch.setattr(mail, "render_mail", shouting)
    monkeypatch.setattr(mail, "_FILLS_LIKE_ALONE", {})
    ona, sam = make_user(name="Ona"), make_user(name="Sam")
    with app.app_context():
        mail.notify_many(session, notices([ona, sam]))
        session.commit()
    bodies = {row.to_address: row.text_body for row in session.scalars(select(OutboxMail))}
    assert "Hello ONA," in bodies[ona.email] and "Hello SAM," in bodies[sam.email]
    assert mail._FILLS_LIKE_ALONE[("course_assigned", "en", True)] is False


def test_within_rendering_once_a_context_is_rendered_once(app, session, make_user, monkeypatch):
    calls = []
    render = mail.render_mail

    def counting(kind, locale, context):
        calls.append(kind)
        return render(kind, locale, context)

    monkeypatch.setattr(mail, "render_mail", counting)
    people = [make_user(name=f"Person {n}") for n in range(6)]
    due = {**CONTEXT, "due": date(2030, 5, 1)}
    with app.app_context():
        mail.notify_many(session, notices(people[:1], key="warm-up"))  # the check, once
        calls.clear()
        with mail.rendering_once():
            mail.notify_many(session, notices(people[:3], context=due))
            mail.notify_many(session, notices(people[3:], context=due))
        session.commit()
    assert calls == ["course_assigned"]  # six mails, one rendering
    bodies = {row.key: row.text_body for row in session.scalars(select(OutboxMail))}
    assert len(bodies) == 7
    for person in people:
        assert f"Hello {person.name}," in bodies[f"k:{person.id}"]
        assert "1 May 2030" in bodies[f"k:{person.id}"]  # British English: day, month, year


def test_queue_mails_says_which_it_queued(app, session):
    with app.app_context():
        first = mail.Mail(
            "digest:a", "a@example.org", "A", "en", "password_reset", {"url": "u", "hours": 2}
        )
        assert mail.queue_mails(session, [first]) == [True]
        again = mail.Mail(
            "digest:b", "b@example.org", "B", None, "password_reset", {"url": "u", "hours": 2}
        )
        assert mail.queue_mails(session, [first, again, again]) == [False, True, False]
        session.commit()
    assert sorted(session.scalars(select(OutboxMail.key))) == ["digest:a", "digest:b"]


def test_notify_people_tells_everyone_in_chunks_by_the_mode_given(
    app, session, make_user, monkeypatch
):
    monkeypatch.setattr(mail, "NOTICE_CHUNK", 2)
    people = [make_user(name=f"Person {n}") for n in range(5)]
    modes = [None, None, mail.MAIL_DIGEST, mail.MAIL_EACH, None]
    with app.app_context():
        mail.opt_out(session, people[4].email, "course_assigned")
        told = mail.notify_people(
            session,
            list(zip(people, modes, strict=True)),
            kind="course_assigned",
            context=CONTEXT,
            key="thing:7",
            url="https://vle.test/c",
        )
        session.commit()
    assert told == 5
    noted = {row.key: row for row in session.scalars(select(Notification))}
    assert set(noted) == {f"thing:7:{person.id}" for person in people}
    assert noted[f"thing:7:{people[2].id}"].digest_pending
    mailed = {row.to_address for row in session.scalars(select(OutboxMail))}
    assert mailed == {people[0].email, people[1].email, people[3].email}  # 4 stopped them
