"""Default settings for vle. Environment variables named VLE_* override them.

`create_app()` picks a class by `VLE_ENV` (production by default; `vle demo` and
the tests pick their own) and then applies the environment overrides below.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    ENV_NAME = "production"
    INSTANCE_PATH = str(ROOT / "instance")
    DATABASE_URL: str | None = None  # None: SQLite file in the instance folder
    SECRET_KEY: str | None = None  # required in production
    RATELIMIT_STORAGE_URL = "memory://"
    # Sign-in attempts allowed a minute per account (its e-mail) and per client
    # address: an office behind one public address never reaches the second.
    # Counted in the database, shared by every worker (accounts.services.reserve_sign_in).
    SIGN_IN_LIMIT_PER_ACCOUNT = 5
    SIGN_IN_LIMIT_PER_ADDRESS = 50
    # A browser session ends after this long without a request, and after this long in all.
    SESSION_IDLE_HOURS = 8.0
    SESSION_MAX_DAYS = 30.0
    # Links mailed to set a password work once, for this long (accounts.passwords).
    PASSWORD_RESET_HOURS = 2.0
    INVITATION_DAYS = 14.0
    # Reset links asked for a minute, per address asked for and per client address
    # (counted in the database, as sign-in is).
    PASSWORD_RESET_LIMIT_PER_EMAIL = 3
    PASSWORD_RESET_LIMIT_PER_ADDRESS = 20
    SECURE_COOKIES = True
    COURSES_PATH = str(ROOT / "courses")
    # The largest file a trainer may upload (a file item, a course zip), in MB.
    # Requests are refused a little above it, before they are read (413).
    UPLOAD_MAX_MB = 50
    LANGUAGES = ("en", "lt", "pl", "nb")
    DEFAULT_LANGUAGE = "en"
    DEFAULT_TIMEZONE = "Europe/Vilnius"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_SENDER = "vle@localhost"
    MAIL_USERNAME: str | None = None  # log in to the SMTP server when set
    MAIL_PASSWORD: str | None = None
    MAIL_TLS = False  # STARTTLS before sending
    # The certificate authorities (a PEM file) that vouch for the SMTP server's
    # certificate under STARTTLS, for a server with a private CA's or a
    # self-signed certificate; None: the system's. The name is checked either way.
    MAIL_TLS_CA_FILE: str | None = None
    # Seconds the SMTP server may take to answer, at each step, before the worker
    # gives up on it for now: the mail waits in the outbox and is tried again.
    MAIL_TIMEOUT = 10.0
    # The site's name (page titles, the header, mails, certificates) and, optionally,
    # its logo: a PNG, JPEG or SVG file shown in the header instead of the name's text.
    SITE_NAME = "vle"
    SITE_LOGO: str | None = None
    # The public address of the site, for links in mails (built without a request).
    BASE_URL = "http://127.0.0.1:5000"
    # Badges (vle/competencies/keys.py): the RSA private key(s) that sign Open Badges 3.0
    # credentials, PEM files separated by ":" (the first signs, the others are only
    # published); None: keys generated into the instance folder's badge-keys/.
    BADGE_KEY_FILE: str | None = None
    # The issuer's name in badges (Open Badges' Issuer profile).
    BADGE_ISSUER_NAME = ""  # the site's name (SITE_NAME) unless set
    # Recurring training: how many days before a completion expires its
    # learner is reminded, once per threshold (vle/learning/expiry.py).
    EXPIRY_REMINDER_DAYS = "30,7"
    # Assigned training: a reminder this many days before the due date.
    DUE_REMINDER_DAYS = 7
    # The background queue (vle/mail/queue.py): None is a SQLite file in the
    # instance folder (queue.sqlite3); redis://… in production.
    QUEUE_URL: str | None = None
    QUEUE_IMMEDIATE = False  # run each task at once, in the caller (tests)
    # Seconds Redis (rate limits, the queue) may take to answer before a web
    # request carries on without it: limits then count in each worker's memory
    # (logged), and mail waits in the outbox for the worker's sweep.
    REDIS_TIMEOUT = 2.0
    # Behind a reverse proxy that sets X-Forwarded-For/-Proto: how many proxies to trust.
    PROXY_COUNT = 0
    # Who may read /metrics (Prometheus): addresses or networks (CIDR), comma-separated.
    METRICS_ALLOW = "127.0.0.1"
    PAGE_SIZE = 25
    # bench/ only: serve a do-nothing route at /bench/ceiling (the framework's ceiling).
    BENCH_CEILING = False
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session


class DevelopmentConfig(Config):
    """Development and demo make their own secret key in the instance folder."""

    ENV_NAME = "development"
    SECURE_COOKIES = False


class DemoConfig(DevelopmentConfig):
    ENV_NAME = "demo"


class TestConfig(DevelopmentConfig):
    ENV_NAME = "test"
    TESTING = True
    QUEUE_IMMEDIATE = True
    SECRET_KEY = "test-not-secret"  # noqa: S105 - tests only


CONFIGS = {
    "production": Config,
    "development": DevelopmentConfig,
    "demo": DemoConfig,
    "test": TestConfig,
}

# Environment variable → setting name, and how to read it.
ENVIRONMENT: dict[str, tuple[str, Callable[[str], object]]] = {
    "VLE_INSTANCE_PATH": ("INSTANCE_PATH", str),
    "VLE_DATABASE_URL": ("DATABASE_URL", str),
    "VLE_SECRET_KEY": ("SECRET_KEY", str),
    "VLE_RATELIMIT_STORAGE_URL": ("RATELIMIT_STORAGE_URL", str),
    "VLE_SECURE_COOKIES": ("SECURE_COOKIES", _bool),
    "VLE_COURSES_PATH": ("COURSES_PATH", str),
    "VLE_UPLOAD_MAX_MB": ("UPLOAD_MAX_MB", int),
    "VLE_PROXY_COUNT": ("PROXY_COUNT", int),
    "VLE_METRICS_ALLOW": ("METRICS_ALLOW", str),
    "VLE_MAIL_SERVER": ("MAIL_SERVER", str),
    "VLE_MAIL_PORT": ("MAIL_PORT", int),
    "VLE_MAIL_SENDER": ("MAIL_SENDER", str),
    "VLE_MAIL_USERNAME": ("MAIL_USERNAME", str),
    "VLE_MAIL_PASSWORD": ("MAIL_PASSWORD", str),
    "VLE_MAIL_TLS": ("MAIL_TLS", _bool),
    "VLE_MAIL_TLS_CA_FILE": ("MAIL_TLS_CA_FILE", str),
    "VLE_MAIL_TIMEOUT": ("MAIL_TIMEOUT", float),
    "VLE_BASE_URL": ("BASE_URL", str),
    "VLE_SITE_NAME": ("SITE_NAME", str),
    "VLE_SITE_LOGO": ("SITE_LOGO", str),
    "VLE_BADGE_KEY_FILE": ("BADGE_KEY_FILE", str),
    "VLE_BADGE_ISSUER_NAME": ("BADGE_ISSUER_NAME", str),
    "VLE_EXPIRY_REMINDER_DAYS": ("EXPIRY_REMINDER_DAYS", str),
    "VLE_DUE_REMINDER_DAYS": ("DUE_REMINDER_DAYS", int),
    "VLE_QUEUE_URL": ("QUEUE_URL", str),
    "VLE_REDIS_TIMEOUT": ("REDIS_TIMEOUT", float),
    "VLE_BENCH_CEILING": ("BENCH_CEILING", _bool),
    "VLE_SESSION_IDLE_HOURS": ("SESSION_IDLE_HOURS", float),
    "VLE_SESSION_MAX_DAYS": ("SESSION_MAX_DAYS", float),
    "VLE_PASSWORD_RESET_HOURS": ("PASSWORD_RESET_HOURS", float),
    "VLE_INVITATION_DAYS": ("INVITATION_DAYS", float),
}


def load(env_name: str | None = None) -> dict:
    """The settings for `env_name` (or `VLE_ENV`), with VLE_* overrides applied."""
    name = env_name or os.environ.get("VLE_ENV", "production")
    cls = CONFIGS.get(name)
    if cls is None:
        raise ValueError(f"VLE_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
    for variable, (key, parse) in ENVIRONMENT.items():
        if variable in os.environ:
            settings[key] = parse(os.environ[variable])
    return settings
