"""
A minimal Django project serving Django OAuth Toolkit (Debian python3-django-oauth-toolkit 1.7) as
a real target for the conformance suites. DOT's documented defaults are kept, except where noted:
each exception says why. Everything that varies per run comes from the environment the launcher
(../launch.ts) sets; nothing here is a secret worth keeping (a throw-away server on loopback).
"""
import os
from pathlib import Path

STATE_DIR = Path(os.environ["DOT_STATE_DIR"])  # the launcher's temp dir: database and signing key


def _seconds(name):
    value = int(os.environ[name])
    if value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value}")
    return value


SECRET_KEY = os.environ["DOT_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "dotserver.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        # sqlite with BEGIN IMMEDIATE transactions (sqlite_immediate/base.py says why): concurrent
        # refreshes of one token would otherwise fail with "database is locked", a 500 of our making.
        "ENGINE": "dotserver.sqlite_immediate",
        "NAME": str(STATE_DIR / "db.sqlite3"),
        # A waiting writer gives up after this many seconds; far above any request's length here.
        "OPTIONS": {"timeout": 30},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# Fast password hashing: the test user's hash is checked at every login (~100 per run), and the
# default PBKDF2 (260 000 rounds) would make logins, not DOT, the bottleneck on a 2-core machine.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/accounts/login/"
# The SSO session (Django's session cookie): the profile's ssoSessionLifetimeSeconds, scaled like
# the token lifetimes. DOT's refresh grant never looks at it (refresh is session-independent).
SESSION_COOKIE_AGE = _seconds("DOT_SESSION_SECONDS")

OAUTH2_PROVIDER = {
    # OIDC on, signing with the RSA key the launcher generated for this run (DOT's documented RS256 set-up).
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": (STATE_DIR / "oidc.key").read_text(),
    # The deployment's scopes (the profile's): openid and profile for OIDC, DOT's default read/write,
    # and offline_access, which DOT treats as an ordinary scope (it issues a refresh token on every
    # code exchange anyway): declared so that a client asking for it is not refused with invalid_scope.
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Your profile",
        "offline_access": "Offline access",
        "read": "Reading scope",
        "write": "Writing scope",
    },
    # Lifetimes of a few seconds instead of DOT's 36000 s defaults, so real-clock checks finish.
    "ACCESS_TOKEN_EXPIRE_SECONDS": _seconds("DOT_ACCESS_TOKEN_SECONDS"),
    "ID_TOKEN_EXPIRE_SECONDS": _seconds("DOT_ID_TOKEN_SECONDS"),
    # DOT's default is None (refresh tokens are never removed). The profile declares a lifetime, and
    # this is DOT's setting for it; DOT applies it only in the cleartokens command, never when a
    # token is used (see the profile's notes and the expected failures).
    "REFRESH_TOKEN_EXPIRE_SECONDS": _seconds("DOT_REFRESH_TOKEN_SECONDS"),
    # Defaults, spelled out because the profile cites them: rotation on, no grace period.
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    # Server errors (a 500's traceback) go to stderr, which the launcher passes on.
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}
