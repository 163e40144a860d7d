"""No WTForms here. The unsubscribe page's button posts what a mail program
posts for a one-click unsubscribe (RFC 8058: `List-Unsubscribe=One-Click`, no
session, no CSRF token): the signed link is what authorises it."""
