"""The forums' pages: /network/forums/…, /network/threads/…, /network/posts/….

Every page is for signed-in users; what each may read or do is asked of
vle/community/forums.py, which raises Forbidden or NotFound (shown as a 403 or
404 page with its message by the app's error handler).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from vle import db, uploads
from vle.catalog import services as catalog
from vle.community import forums
from vle.community.forms import (
    DELIVERY_WORDS,
    EditForm,
    ForumForm,
    MoveForm,
    ReplyForm,
    ReportForm,
    SubscriptionForm,
    ThreadForm,
)
from vle.community.models import Delivery, Forum, PostReport
from vle.community.views import bp
from vle.errors import Forbidden, Invalid


def _page() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and len(value) < 7 else 1


def _files(field: Any) -> list[forums.Upload]:
    return [
        forums.Upload(f.filename or "", f.read())
        for f in (field.data or [])
        if getattr(f, "filename", None)
    ]


def _upload_rules() -> dict[str, Any]:
    return {
        "instance_path": current_app.instance_path,
        "max_bytes": int(current_app.config["UPLOAD_MAX_MB"]) * 1024 * 1024,
    }


def _forum(forum_id: int) -> Forum:
    return forums.readable_forum(db.session(), current_user, forum_id)


def _subscription_form(forum: Forum, delivery: str) -> SubscriptionForm | None:
    choices = forums.subscription_choices(forum)
    if not choices:
        return None
    form = SubscriptionForm(formdata=None, delivery=delivery).offer(choices)
    return form


# ---------------------------------------------------------------------- forums


@bp.get("/forums/")
@login_required
def forum_index() -> Any:
    db_session = db.session()
    lists = forums.forums_for(db_session, current_user)
    return render_template(
        "community/forums.html",
        lists=lists,
        may_create=forums.can_create_forum(current_user),
        title=_("Forums"),
    )


@bp.route("/forums/new", methods=["GET", "POST"])
@login_required
def forum_new() -> Any:
    if not forums.can_create_forum(current_user):
        abort(403)
    form = ForumForm()
    if form.validate_on_submit():
        db_session = db.session()
        try:
            forum = forums.create_forum(
                db_session,
                current_user,
                title=form.title.data or "",
                description=form.description.data or "",
                kind=form.kind.data or "",
                subscription=form.subscription.data or "",
                lock_after_days=form.lock_after_days.data,
                address=request.remote_addr,
            )
        except Invalid as problem:
            db_session.rollback()
            form.title.errors = [*form.title.errors, problem.message]
        else:
            db_session.commit()
            flash(_("The forum was created."), "success")
            return redirect(url_for("community.forum", forum_id=forum.id), 303)
    return render_template("community/forum_new.html", form=form, title=_("New forum")), (
        422 if form.errors else 200
    )


@bp.get("/courses/<slug>/forum")
@db.writes
@login_required
def course_forum(slug: str) -> Any:
    """A course's forum, made the first time someone opens it."""
    db_session = db.session()
    course = catalog.course_for(db_session, slug, current_user, with_items=False)
    forum = forums.course_forum(db_session, current_user, course)
    db_session.commit()
    return redirect(url_for("community.forum", forum_id=forum.id), 303)


@bp.get("/forums/<int:forum_id>")
@login_required
def forum(forum_id: int) -> Any:
    db_session = db.session()
    forum = _forum(forum_id)
    listing = forums.thread_listing(db_session, current_user, forum, _page())
    delivery = forums.subscription_of(db_session, current_user, forum)
    return render_template(
        "community/forum.html",
        forum=forum,
        listing=listing,
        subscription=_subscription_form(forum, delivery),
        delivery=delivery,
        delivery_words=DELIVERY_WORDS,
        moderator=forums.can_moderate(db_session, current_user, forum),
        title=forum.title,
    )


@bp.post("/forums/<int:forum_id>/subscription")
@login_required
def forum_subscription(forum_id: int) -> Any:
    db_session = db.session()
    forum = _forum(forum_id)
    form = SubscriptionForm().offer([d.value for d in Delivery])
    if not form.validate():
        abort(400)
    forums.set_subscription(db_session, current_user, form.delivery.data or "", forum)
    db_session.commit()
    flash(_("Your subscription was saved."), "success")
    return redirect(url_for("community.forum", forum_id=forum.id), 303)


@bp.route("/forums/<int:forum_id>/new", methods=["GET", "POST"])
@login_required
def thread_new(forum_id: int) -> Any:
    db_session = db.session()
    forum = _forum(forum_id)
    form = ThreadForm()
    if form.validate_on_submit():
        try:
            thread = forums.start_thread(
                db_session,
                current_user,
                forum,
                form.subject.data or "",
                form.message.data or "",
                files=_files(form.attachments),
                **_upload_rules(),
            )
        except Invalid as problem:
            db_session.rollback()
            form.attachments.errors = [*form.attachments.errors, problem.message]
        else:
            db_session.commit()
            return redirect(url_for("community.thread", thread_id=thread.id), 303)
    return render_template(
        "community/thread_new.html", forum=forum, form=form, title=_("New thread")
    ), (422 if form.errors else 200)


# --------------------------------------------------------------------- threads


@bp.get("/threads/<int:thread_id>")
@db.writes
@login_required
def thread(thread_id: int) -> Any:
    """A page of the thread's posts; opening it marks the thread read."""
    db_session = db.session()
    thread = forums.readable_thread(db_session, current_user, thread_id)
    page = forums.thread_page(db_session, current_user, thread, _page())
    forums.mark_read(db_session, current_user, thread)
    db_session.commit()
    return _thread_page(thread, page, ReplyForm(formdata=None))


def _thread_page(
    thread: Any, page: forums.ThreadPage, form: ReplyForm, quote: Any = None, status: int = 200
) -> Any:
    db_session = db.session()
    delivery = forums.subscription_of(db_session, current_user, thread.forum, thread)
    move = None
    if page.moderator:
        targets = [
            f for f in forums.forums_moderated(db_session, current_user) if f.id != thread.forum_id
        ]
        if targets:
            move = MoveForm(formdata=None)
            move.forum.choices = [(f.id, f.title) for f in targets]
    return render_template(
        "community/thread.html",
        thread=thread,
        forum=thread.forum,
        page=page,
        form=form,
        quote=quote,
        may_edit=lambda post: forums.may_edit(current_user, post),
        subscription=_subscription_form(thread.forum, delivery),
        delivery=delivery,
        delivery_words=DELIVERY_WORDS,
        move=move,
        title=thread.subject,
    ), status


@bp.route("/threads/<int:thread_id>/reply", methods=["GET", "POST"])
@login_required
def thread_reply(thread_id: int) -> Any:
    """The reply form alone (GET, with `quote`: the post quoted above it), and
    where the thread page's reply form posts."""
    db_session = db.session()
    thread = forums.readable_thread(db_session, current_user, thread_id)
    form = ReplyForm()
    raw_quote = request.values.get("quote", "")
    quote = None
    if raw_quote:
        if not raw_quote.isdigit():
            abort(400)
        quote = forums.readable_post(db_session, current_user, int(raw_quote))
        if quote.thread_id != thread.id:
            abort(404)
        form.quote.data = str(quote.id)
    if request.method == "POST" and form.validate():
        try:
            post = forums.reply(
                db_session,
                current_user,
                thread,
                form.message.data or "",
                quote_id=quote.id if quote else None,
                files=_files(form.attachments),
                **_upload_rules(),
            )
        except Invalid as problem:
            db_session.rollback()
            form.message.errors = [*form.message.errors, problem.message]
        else:
            db_session.commit()
            count = thread.post_count
            last = (count - 1) // forums.PER_PAGE + 1
            return redirect(
                url_for(
                    "community.thread", thread_id=thread.id, page=last, _anchor=f"post-{post.id}"
                ),
                303,
            )
    if forums.is_locked(thread):
        raise Forbidden(_("This thread is locked: no one can reply to it."))
    return render_template(
        "community/reply.html", thread=thread, form=form, quote=quote, title=_("Reply")
    ), (422 if form.errors else 200)


@bp.post("/threads/<int:thread_id>/subscription")
@login_required
def thread_subscription(thread_id: int) -> Any:
    db_session = db.session()
    thread = forums.readable_thread(db_session, current_user, thread_id)
    form = SubscriptionForm().offer([d.value for d in Delivery])
    if not form.validate():
        abort(400)
    forums.set_subscription(
        db_session, current_user, form.delivery.data or "", thread.forum, thread
    )
    db_session.commit()
    flash(_("Your subscription was saved."), "success")
    return redirect(url_for("community.thread", thread_id=thread.id), 303)


MODERATION_DONE = {
    "pin": _l("The thread was pinned."),
    "unpin": _l("The thread was unpinned."),
    "lock": _l("The thread was locked."),
    "unlock": _l("The thread was unlocked."),
    "hide": _l("The thread was hidden."),
    "unhide": _l("The thread is shown again."),
}


@bp.post("/threads/<int:thread_id>/moderate")
@login_required
def thread_moderate(thread_id: int) -> Any:
    db_session = db.session()
    thread = forums.readable_thread(db_session, current_user, thread_id)
    act = request.form.get("act", "")
    forums.moderate_thread(db_session, current_user, thread, act, request.remote_addr)
    db_session.commit()
    flash(str(MODERATION_DONE[act]), "success")
    return redirect(url_for("community.thread", thread_id=thread.id), 303)


@bp.post("/threads/<int:thread_id>/move")
@login_required
def thread_move(thread_id: int) -> Any:
    db_session = db.session()
    thread = forums.readable_thread(db_session, current_user, thread_id)
    raw = request.form.get("forum", "")
    target = db_session.get(Forum, int(raw)) if raw.isdigit() else None
    if target is None:
        raise Invalid(_("Choose a forum from the list."))
    forums.move_thread(db_session, current_user, thread, target, request.remote_addr)
    db_session.commit()
    flash(_("The thread was moved to %(forum)s.", forum=target.title), "success")
    return redirect(url_for("community.thread", thread_id=thread.id), 303)


# ----------------------------------------------------------------------- posts


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def post_edit(post_id: int) -> Any:
    db_session = db.session()
    post = forums.readable_post(db_session, current_user, post_id)
    if post.author_id != current_user.id:
        raise Forbidden(_("You can only edit your own posts."))
    if not forums.may_edit(current_user, post):
        raise Forbidden(_("A post can be edited only within 30 minutes of posting it."))
    form = EditForm(message=post.source)
    if form.validate_on_submit():
        try:
            forums.edit_post(db_session, current_user, post, form.message.data or "")
        except Invalid as problem:
            db_session.rollback()
            form.message.errors = [*form.message.errors, problem.message]
        else:
            db_session.commit()
            flash(_("Your post was changed."), "success")
            return redirect(
                url_for("community.thread", thread_id=post.thread_id, _anchor=f"post-{post.id}"),
                303,
            )
    return render_template(
        "community/post_edit.html", post=post, form=form, title=_("Edit your post")
    ), (422 if form.errors else 200)


@bp.post("/posts/<int:post_id>/moderate")
@login_required
def post_moderate(post_id: int) -> Any:
    db_session = db.session()
    post = forums.readable_post(db_session, current_user, post_id)
    act = request.form.get("act", "")
    if act not in ("hide", "unhide"):
        raise Invalid(_("Choose an action from the list."))
    forums.moderate_post(db_session, current_user, post, act == "hide", request.remote_addr)
    db_session.commit()
    flash(_("The post was hidden.") if act == "hide" else _("The post is shown again."), "success")
    return redirect(
        url_for("community.thread", thread_id=post.thread_id, _anchor=f"post-{post.id}"), 303
    )


@bp.route("/posts/<int:post_id>/report", methods=["GET", "POST"])
@login_required
def post_report(post_id: int) -> Any:
    db_session = db.session()
    post = forums.readable_post(db_session, current_user, post_id)
    form = ReportForm()
    if form.validate_on_submit():
        made = forums.report_post(
            db_session, current_user, post, form.reason.data or "", request.remote_addr
        )
        db_session.commit()
        if made:
            flash(_("Thank you: the moderators will look at this post."), "success")
        else:
            flash(_("You had already reported this post: the moderators have your report."), "info")
        return redirect(
            url_for("community.thread", thread_id=post.thread_id, _anchor=f"post-{post.id}"), 303
        )
    return render_template(
        "community/report.html", post=post, form=form, title=_("Report a post")
    ), (422 if form.errors else 200)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int) -> Any:
    """A post's file, for those who read the post: always a download."""
    stored = forums.readable_attachment(db.session(), current_user, attachment_id)
    try:
        path = uploads.stored_path(current_app.instance_path, stored.sha256)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=stored.name,
        conditional=False,
        etag=False,
        max_age=None,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# ------------------------------------------------------------------ moderation


@bp.get("/forums/reports")
@login_required
def reports() -> Any:
    if not current_user.is_staff:  # only trainers and administrators moderate
        abort(403)
    reports = forums.open_reports(db.session(), current_user)
    return render_template("community/reports.html", reports=reports, title=_("Reported posts"))


@bp.post("/reports/<int:report_id>/resolve")
@login_required
def report_resolve(report_id: int) -> Any:
    db_session = db.session()
    report = db_session.get(PostReport, report_id)
    if report is None:
        abort(404)
    outcome = request.form.get("outcome", "")
    forums.resolve_report(db_session, current_user, report, outcome, request.remote_addr)
    db_session.commit()
    flash(_("The post was hidden.") if outcome == "hidden" else _("The post was kept."), "success")
    return redirect(url_for("community.reports"), 303)
