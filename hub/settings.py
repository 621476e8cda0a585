"""Settings for the Physical Activity Resource Hub.

One module, driven by environment variables (see `.env.example`). Local defaults are
safe for a laptop; production (DJANGO_DEBUG=false) refuses to start without a secret key
and allowed hosts.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the {name} environment variable.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

if DEBUG:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-only-insecure-key-never-use-in-production")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
else:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is false "
            "(set DJANGO_DEBUG=true for local development)."
        )
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is required when DJANGO_DEBUG is false.")

INSTALLED_APPS = [
    # Before the admin (django-modeltranslation's rule): the translated fields must exist
    # before the admin modules are loaded.
    "modeltranslation",  # vocabulary names per language (resources/translation.py)
    "hub.apps.HubAdminConfig",  # django.contrib.admin, with the hub's admin site (hub/auth.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "hub.apps.HubConfig",
    "django.contrib.sitemaps",
    "django_filters",
    "simple_history",  # every change to a resource, with diff and restore (#4)
    "import_export",  # resources as CSV / XLSX, with a dry run (#4)
    "ninja",  # the API docs page's Swagger UI files, served from our own origin (CSP)
    "resources",
]

MIDDLEWARE = [
    # Outermost: every response, redirects and error pages included, gets a request id and
    # one log line (hub/logging.py).
    "hub.logging.request_log_middleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ETag on every cacheable answer; 304 for a matching If-None-Match (hub/cache.py sets the
    # ETag of cached pages). Above ReferralCount, which then still sees the full answer.
    "django.middleware.http.ConditionalGetMiddleware",
    # Above Locale and Common: sees their redirects, so a ?ref= visit counts once. Above the
    # page cache, so that a visit answered from the cache counts too.
    "resources.clinics.referrals.ReferralCountMiddleware",
    # Stores anonymous public pages (hub/cache.py) once the middleware below are done with
    # them; below the request log, so X-Request-ID is never replayed from the cache.
    "hub.cache.UpdatePageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Ends staff sessions after HUB_STAFF_SESSION_IDLE_HOURS idle, HUB_STAFF_SESSION_MAX_DAYS
    # at most.
    "hub.auth.StaffSessionLifetimeMiddleware",
    # Records who made each change in a resource's history (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Below CSP and X-Frame-Options, so that its 400 carries them; above every view.
    "hub.security.QueryStringLimitMiddleware",
    # Answers from the page cache: below LocaleMiddleware (the language is part of the key),
    # above the views, the database and its outage page.
    "hub.cache.FetchPageCacheMiddleware",
    # Low in the list: process_exception hooks run bottom-up, so it sees a view's database
    # error first, and its 503 still passes every middleware above (headers, CSP, request log).
    "hub.middleware.DatabaseOutageMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Fail fast instead of hanging when the database is unreachable (a 503 page follows): seconds
# to wait for a PostgreSQL connection, or for a locked SQLite database.
_db_timeout = env_int("DATABASE_CONNECT_TIMEOUT", 5)
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _db_options.setdefault("connect_timeout", _db_timeout)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _db_options.setdefault("timeout", _db_timeout)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_cache_url = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL")
# A Redis that hangs must not hang pages or /readyz: milliseconds to wait for a connection and
# for each answer (a healthy one answers in well under one). After a failure the page cache
# is skipped for HUB_CACHE_BREAKER_SECONDS in that process, then tried again (hub/cache.py).
HUB_CACHE_TIMEOUT_MS = env_int("HUB_CACHE_TIMEOUT_MS", 250)
HUB_CACHE_BREAKER_SECONDS = env_int("HUB_CACHE_BREAKER_SECONDS", 10)
if _cache_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "OPTIONS": {
                "socket_connect_timeout": HUB_CACHE_TIMEOUT_MS / 1000,
                "socket_timeout": HUB_CACHE_TIMEOUT_MS / 1000,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Full-page cache of public pages for anonymous visitors (hub/cache.py). Publishing or editing
# content replaces the key's content version, so these are upper bounds, not delays: seconds
# a page is kept here and by CDNs (s-maxage; 0 turns the page cache off), and by browsers
# (max-age). Browsers: 0 by default, so they ask again on every visit (a 304 from the cache
# when nothing changed) and an unpublished resource is gone for them at once too.
HUB_PAGE_CACHE_SECONDS = env_int("HUB_PAGE_CACHE_SECONDS", 600)
HUB_BROWSER_CACHE_SECONDS = env_int("HUB_BROWSER_CACHE_SECONDS", 0)
CACHE_MIDDLEWARE_ALIAS = "default"
CACHE_MIDDLEWARE_KEY_PREFIX = "hub.page"
CACHE_MIDDLEWARE_SECONDS = HUB_PAGE_CACHE_SECONDS

# NIST SP 800-63B: long passwords, checked against common ones and the account's own details,
# and no composition rules (so no NumericPasswordValidator: twelve random digits are fine).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "hub.auth.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
]

# Admin protection (hub/auth.py). axes' backend comes first: it refuses a locked-out
# username + address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Staff need a one-time code from an authenticator app (TOTP) as well as their password.
# Default: on, except while debugging on a laptop.
HUB_ADMIN_REQUIRE_2FA = env_bool("HUB_ADMIN_REQUIRE_2FA", not DEBUG)
OTP_TOTP_ISSUER = "Resource Hub"
# Lock a username from one address for a while after repeated failures; the same username
# from elsewhere, and other usernames from that address, are not affected (no permanent lock,
# and an attacker cannot lock an editor out of the whole site).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "hub.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "hub.auth.client_ip"
# X-Forwarded-For is believed only when the connection comes from one of these proxies
# (addresses or CIDR networks, comma-separated); hub.auth.client_ip then takes the right-most
# address in it that is not one of them. Empty (the default): the header is never believed, so a
# client cannot choose the address that login lockouts count.
HUB_TRUSTED_PROXIES = env_list("HUB_TRUSTED_PROXIES")
for _proxy in HUB_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"HUB_TRUSTED_PROXIES: {_proxy!r} is not an IP address or network."
        ) from None
# hub.security logs every login, failure and lockout (without passwords or codes); axes' own
# tables keep only the current failure counts, and its admin pages stay off (an attempted
# username can be a password typed in the wrong box). Unlock early: axes_reset_username.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]

# Internationalisation: the language is always in the URL (i18n_patterns).
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("de", _("German")),
    ("nl", _("Dutch")),
    ("es", _("Spanish")),
    ("pl", _("Polish")),
    ("sv", _("Swedish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Vocabulary names and descriptions per language (django-modeltranslation): `name` reads
# `name_<active language>`, falling back to English where a translation is empty. Slugs are
# prepopulated from the English name, whatever the editor's language.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
MODELTRANSLATION_PREPOPULATE_LANGUAGE = "en"
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media")))

# Uploaded media: a local folder for one server; an S3-compatible bucket (AWS, MinIO, R2, …)
# when several app servers must see the same files. boto3 reads the credentials itself
# (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the machine's role), so none live here.
_media_storage = os.environ.get("DJANGO_MEDIA_STORAGE") or (
    "s3" if os.environ.get("AWS_STORAGE_BUCKET_NAME") else "local"
)
if _media_storage not in {"local", "s3"}:
    raise ImproperlyConfigured(f"DJANGO_MEDIA_STORAGE must be local or s3, not {_media_storage!r}.")
_media_origins: list[str] = []  # where pages load images from, besides our own origin (CSP)
if _media_storage == "s3":
    _bucket = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
    if not _bucket:
        raise ImproperlyConfigured("DJANGO_MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
    _s3_endpoint = os.environ.get("AWS_S3_ENDPOINT_URL") or None
    if _s3_endpoint and not _s3_endpoint.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            f"AWS_S3_ENDPOINT_URL must start with https://, not {_s3_endpoint!r}."
        )
    _s3_region = os.environ.get("AWS_S3_REGION_NAME") or None
    _s3_domain = os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None
    _media_default = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _bucket,
            "endpoint_url": _s3_endpoint,
            "region_name": _s3_region,
            "custom_domain": _s3_domain,
            "location": os.environ.get("AWS_LOCATION", ""),
            # Unsigned URLs by default: public pages are cached (and by a CDN), and a signed
            # URL inside a cached page stops working when its signature expires.
            "querystring_auth": env_bool("AWS_QUERYSTRING_AUTH", False),
            # No per-object ACL: access is the bucket policy's job (many buckets refuse ACLs).
            "default_acl": None,
            # Like FileSystemStorage: a second "walk.jpg" gets a new name instead of
            # replacing another resource's image.
            "file_overwrite": False,
        },
    }
    if _s3_domain:
        _media_origins = [f"https://{_s3_domain}"]
    elif _s3_endpoint:
        _scheme, _, _host = _s3_endpoint.rstrip("/").partition("://")
        _media_origins = [f"{_scheme}://{_host}", f"{_scheme}://{_bucket}.{_host}"]
    else:
        _media_origins = [f"https://{_bucket}.s3.amazonaws.com"]
        if _s3_region:
            _media_origins.append(f"https://{_bucket}.s3.{_s3_region}.amazonaws.com")
else:
    _media_default = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_default,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Content Security Policy (docs/architecture.md): our own origin only, no inline code, no nonces,
# so anonymous pages stay cacheable. Video players are framed only after "Play".
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *_media_origins],
    "frame-src": ["https://www.youtube-nocookie.com", "https://player.vimeo.com"],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Features the site never uses. Listed so that neither our pages nor anything a future
# mistake lets into them (or a page framing the widget) can switch them on. Only names that
# Chromium recognises: an unknown one costs every page a console error (tests/browser/
# test_csp.py fails on it), so e.g. `ambient-light-sensor`, `bluetooth` and `web-share` are
# left out. `interest-cohort` (FLoC) is still recognised; `browsing-topics` replaced it.
_DENIED_FEATURES = (
    "accelerometer",
    "browsing-topics",
    "camera",
    "display-capture",
    "encrypted-media",
    "geolocation",
    "gyroscope",
    "hid",
    "identity-credentials-get",
    "idle-detection",
    "interest-cohort",
    "local-fonts",
    "magnetometer",
    "microphone",
    "midi",
    "otp-credentials",
    "payment",
    "publickey-credentials-create",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "window-management",
    "xr-spatial-tracking",
)

# What static/js/player.js delegates to the video player frame (its `allow` attribute).
_PLAYER_FEATURES = ("autoplay", "fullscreen", "picture-in-picture")
# django-permissions-policy sends it. The player origins are the CSP's `frame-src`, so the two
# lists cannot drift apart: a host we may not frame gets no feature, and a host we frame gets
# what the player needs (and our own pages keep them).
_player_origins = [origin for origin in SECURE_CSP["frame-src"] if origin.startswith("https://")]
PERMISSIONS_POLICY: dict[str, list[str]] = {
    **{feature: [] for feature in _DENIED_FEATURES},
    **{feature: ["self", *_player_origins] for feature in _PLAYER_FEATURES},
}
SESSION_COOKIE_HTTPONLY = True
# Only staff have sessions (anonymous visitors get no cookie). A session ends after this many
# hours without a request, and in any case this many days after the login: a forgotten laptop
# does not keep the admin open for weeks (hub.auth.StaffSessionLifetimeMiddleware).
HUB_STAFF_SESSION_IDLE_HOURS = env_int("HUB_STAFF_SESSION_IDLE_HOURS", 12)
HUB_STAFF_SESSION_MAX_DAYS = env_int("HUB_STAFF_SESSION_MAX_DAYS", 7)
SESSION_COOKIE_AGE = HUB_STAFF_SESSION_IDLE_HOURS * 3600
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    # A browser accepts a __Host- cookie only if it is Secure, for Path=/ and without a
    # Domain, so neither a sibling subdomain nor plain http can plant or read it. Local
    # development over http keeps the plain names.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# A load balancer polls the app servers directly, over plain http: a 301 would read as "down".
# The health answers carry nothing private.
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz)$"]
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # check --deploy warns (security.W021) whenever preload is off. Preloading is not ours to
    # decide: only a bare domain can be submitted to the browsers' list, and that binds every
    # subdomain of it (a charity's or hospital's other sites too) for months; on a subdomain,
    # where the hub usually lives, the directive does nothing. The owner of the domain opts
    # in with DJANGO_HSTS_PRELOAD=true, which also brings the check back.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Where a login lands when its `next` is missing or off-site (Django's login view refuses
# an off-site `next`; its default, /accounts/profile/, does not exist here).
LOGIN_REDIRECT_URL = "admin:index"

# Request size limits. The largest legitimate bodies are admin forms (a guide's Markdown, a
# superuser's list of permissions); a browse address carries a few dozen parameters.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # form fields and any non-file body; else a 400
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500  # counts query-string parameters too; else a 400
DATA_UPLOAD_MAX_NUMBER_FILES = 10
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # larger uploads are spooled to a temporary file
# A whole upload request, files included. Above the 10 MB image limit
# (resources/editorial/images.py), so an editor sees that form error with the reason, not a
# bare 400 page.
HUB_MAX_UPLOAD_MB = env_int("HUB_MAX_UPLOAD_MB", 12)
FILE_UPLOAD_HANDLERS = [
    "hub.security.UploadSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Spreadsheet import/export of resources
# (django-import-export, resources/editorial/spreadsheets.py).
# All or nothing: a file with any bad row is rolled back whole.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"  # editors import (rows arrive as drafts)
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES = True
# Left off on purpose: the library's escaping only drops a leading "=" (and turns every cell
# into text); ResourceSheet.export_field neutralises = + - @ with an apostrophe instead.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False
HUB_IMPORT_MAX_MB = env_int("HUB_IMPORT_MAX_MB", 2)  # one spreadsheet; larger: a form error

# How long an approval lasts before a clinician must look again (docs/editors.md).
# Three years by default.
HUB_REVIEW_CYCLE_DAYS = env_int("HUB_REVIEW_CYCLE_DAYS", 3 * 365)
HUB_PAGE_SIZE = env_int("HUB_PAGE_SIZE", 20)
# Where to report a vulnerability, published in /.well-known/security.txt (RFC 9116).
HUB_SECURITY_CONTACT = env_str("HUB_SECURITY_CONTACT", "mailto:security@example.org")

# `manage.py check_links` (resources/editorial/linkcheck.py; from cron, never from a web request).
HUB_LINK_CHECK_CONNECT_TIMEOUT = env_int("HUB_LINK_CHECK_CONNECT_TIMEOUT", 5)  # seconds
HUB_LINK_CHECK_READ_TIMEOUT = env_int("HUB_LINK_CHECK_READ_TIMEOUT", 10)  # seconds
HUB_LINK_CHECK_DEADLINE = env_int("HUB_LINK_CHECK_DEADLINE", 30)  # per link, all redirects
HUB_LINK_CHECK_CONCURRENCY = env_int("HUB_LINK_CHECK_CONCURRENCY", 4)
# CA certificates (PEM file) for https links; empty: certifi's bundle.
HUB_LINK_CHECK_CA_BUNDLE = env_str("HUB_LINK_CHECK_CA_BUNDLE", "")
HUB_LINK_CHECK_ALLOWED_PORTS = [80, 443, 8080, 8443]
# Networks the checker may contact although they are private or local. Settings only, never
# from the environment: it exists for the tests' local server (["127.0.0.1/32"]).
HUB_LINK_CHECK_ALLOWED_NETWORKS: list[str] = []

# Logs go to stdout: JSON lines in production, readable text while debugging (hub/logging.py).
# Request lines carry the path but never the query string, cookies or addresses.
HUB_LOG_FORMAT = os.environ.get("HUB_LOG_FORMAT") or ("text" if DEBUG else "json")
if HUB_LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"HUB_LOG_FORMAT must be json or text, not {HUB_LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "hub.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "hub.logging.JsonFormatter"},
        "text": {"()": "hub.logging.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": HUB_LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Only through the root handler (Django's own console handler would print twice).
        "django": {"handlers": [], "level": "INFO"},
        # 4xx answers are in hub.request's line already; errors keep their traceback.
        "django.request": {"level": "ERROR"},
        # hub.security reports logins and lockouts; axes' own lines would repeat them.
        "axes": {"level": "ERROR"},
    },
}
