"""fanwen settings: one module, driven by environment variables with safe embedded defaults."""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("FANWEN_VAR_DIR", Path.cwd() / "var")).resolve()


def env(name: str, default: str = "") -> str:
    """Read NAME, or the contents of the file named by NAME_FILE (for container secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    """1/0, true/false, yes/no, on/off in any case; anything else stops start-up (a typo must not mean off)."""
    value = env(name, "").strip()
    if value == "":
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean: use 1/0, true/false, yes/no or on/off"
    )


def env_int(name: str, default: int) -> int:
    value = env(name, "")
    return int(value) if value.strip() else default


def env_float(name: str, default: float) -> float:
    value = env(name, "")
    return float(value) if value.strip() else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name, "")
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


DEBUG = env_bool("FANWEN_DEBUG", False)
# Production mode refuses to start on a dev key; dev mode keeps one generated key under var/.
PRODUCTION = env_bool("FANWEN_PRODUCTION", False)


def _secret_key() -> str:
    key = env("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set when FANWEN_PRODUCTION is on")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_NAME = env("FANWEN_SITE_NAME", "范文网")
# Absolute origin for canonical links; empty means "use the request's host".
SITE_URL = env("FANWEN_SITE_URL", "").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "fanwen.library",
    "fanwen.accounts",
    "fanwen.orders",
    "fanwen.payments",
    "fanwen.ops",
    "fanwen.protection",
    "fanwen.exports",
    "fanwen.search",
    "fanwen.staff",
    "fanwen.pages",
    "fanwen.stats",
    "fanwen.seo",
    "fanwen.support",
    "fanwen.checks",
]

MIDDLEWARE = [
    # First: the request id is on every response and in every log line (fanwen.ops.logs).
    "fanwen.ops.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy header (policy in the deployment block at the end).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: its 429 then carries the same headers as a page; needs the user for staff.
    "fanwen.protection.middleware.PageRateLimitMiddleware",
    # A view that found the database too busy to write answers 503 with Retry-After.
    "fanwen.lib.busy.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "fanwen.urls"
WSGI_APPLICATION = "fanwen.wsgi.application"

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
                "fanwen.library.context_processors.site",
                "fanwen.pages.context_processors.footer",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'fanwen.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue on a file lock instead of SQLite's sleeping busy handler (see the module).
    DATABASES["default"]["ENGINE"] = "fanwen.lib.sqlite"
    # WAL lets readers go on while the importer or a view counter flush writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests run on an in-memory database (Django's default for SQLite), one per test process.
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, but a Redis outage is a cache miss, not an error page.
            "BACKEND": "fanwen.lib.rediscache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            # Several sites (or test runs) can share one Redis under different prefixes.
            "KEY_PREFIX": env("FANWEN_CACHE_PREFIX", "fanwen"),
            # A Redis that hangs must not hang the page: give up and render without it.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "fanwen",
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise also serves collected files from here; an empty folder keeps it from warning.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Tests and `fanwen demo` serve static files straight from the app folders, no collectstatic step.
WHITENOISE_USE_FINDERS = env_bool("FANWEN_STATIC_FINDERS", True)
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"

# Files every node must see (fanwen.lib.storage): "default" holds uploads waiting for an import
# batch, "fonts" the protection fonts and their maps. local: VAR_DIR/media and FANWEN_FONT_DIR
# (else VAR_DIR/fonts); s3: the prefixes media/ and fonts/ of one bucket shared by all nodes.
FANWEN_STORAGE = env("FANWEN_STORAGE", "local").strip().lower()
FANWEN_S3_BUCKET = env("FANWEN_S3_BUCKET")
FANWEN_S3_ENDPOINT_URL = env("FANWEN_S3_ENDPOINT_URL")  # empty: AWS itself
FANWEN_S3_REGION = env("FANWEN_S3_REGION")
FANWEN_S3_PREFIX = env("FANWEN_S3_PREFIX").strip("/")
# path or virtual; empty lets boto3 choose (some S3-compatible servers want path).
FANWEN_S3_ADDRESSING_STYLE = env("FANWEN_S3_ADDRESSING_STYLE")


def _s3_storage(folder: str, *, overwrite: bool) -> dict:
    options = {
        "bucket_name": FANWEN_S3_BUCKET,
        "endpoint_url": FANWEN_S3_ENDPOINT_URL or None,
        "region_name": FANWEN_S3_REGION or None,
        "addressing_style": FANWEN_S3_ADDRESSING_STYLE or None,
        "location": "/".join(part for part in (FANWEN_S3_PREFIX, folder) if part),
        # Private objects: fonts and uploads reach readers only through the app's views.
        "default_acl": None,
        "querystring_auth": True,
        # Fonts replace their object whole; an upload of the same name gets a new name.
        "file_overwrite": overwrite,
    }
    # Else boto3's own chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance role.
    if env("FANWEN_S3_ACCESS_KEY"):
        options["access_key"] = env("FANWEN_S3_ACCESS_KEY")
        options["secret_key"] = env("FANWEN_S3_SECRET_KEY")
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


if FANWEN_STORAGE == "s3":
    if not FANWEN_S3_BUCKET:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("FANWEN_STORAGE=s3 needs FANWEN_S3_BUCKET")
    _FILE_STORAGES = {
        "default": _s3_storage("media", overwrite=False),
        "fonts": _s3_storage("fonts", overwrite=True),
    }
elif FANWEN_STORAGE == "local":
    _FILE_STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "fonts": {
            "BACKEND": "fanwen.lib.storage.VarDirStorage",
            "OPTIONS": {"folder": "fonts", "setting": "FANWEN_FONT_DIR"},
        },
    }
else:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"FANWEN_STORAGE={FANWEN_STORAGE!r}: use local or s3")
STORAGES = {
    **_FILE_STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("FANWEN_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Reading pages: how long a rendered page may be served from cache. Edits, prices and
# publishing purge it (the generation), so this only bounds memory: a day, because rendering
# a protected page again costs ~100 ms and a burst of expired pages would queue behind that.
FANWEN_PAGE_CACHE_SECONDS = env_int("FANWEN_PAGE_CACHE_SECONDS", 86400)
# Browsers one order may be restored to at once (the oldest drops out beyond it).
FANWEN_RESTORE_PLACES = max(1, env_int("FANWEN_RESTORE_PLACES", 3))
# View counts gather in the cache and are written in batches, not on every hit.
FANWEN_VIEW_FLUSH_EVERY = env_int("FANWEN_VIEW_FLUSH_EVERY", 50)
# The dashboard's per-day counters (views, paywall opened) are batched the same way.
FANWEN_STATS_FLUSH_EVERY = env_int("FANWEN_STATS_FLUSH_EVERY", 50)
# With Redis each process first adds its hits up in memory and sends them every this many
# seconds (one round trip for all counters, not one per page view); 0 sends every hit. A
# killed process loses at most this many seconds of counts.
FANWEN_COUNT_BUFFER_SECONDS = env_float("FANWEN_COUNT_BUFFER_SECONDS", 1.0 if REDIS_URL else 0.0)
# The paywall's "opened" beacon: posts per client IP per window (a reader opens it a few times).
FANWEN_BEACON_LIMIT = env_int("FANWEN_BEACON_LIMIT", 30)
FANWEN_BEACON_WINDOW = env_int("FANWEN_BEACON_WINDOW", 600)
# Import limits: anything larger, or any archive that inflates past the cap, is refused.
FANWEN_IMPORT_MAX_BYTES = env_int("FANWEN_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
# Counted while inflating (never the sizes a zip declares); only the XML parts are inflated.
FANWEN_IMPORT_MAX_UNZIPPED_BYTES = env_int("FANWEN_IMPORT_MAX_UNZIPPED_BYTES", 32 * 1024 * 1024)
# Wall clock per file; parsing is linear, so only a huge file comes near it.
FANWEN_IMPORT_MAX_SECONDS = env_int("FANWEN_IMPORT_MAX_SECONDS", 4)
# Characters of decoded text (markup included) and of a Word document's paragraphs.
FANWEN_IMPORT_MAX_CHARS = env_int("FANWEN_IMPORT_MAX_CHARS", 2_000_000)
# Paragraphs (non-empty lines) of one article: a long collection has a few thousand.
FANWEN_IMPORT_MAX_PARAGRAPHS = env_int("FANWEN_IMPORT_MAX_PARAGRAPHS", 50_000)
# Upload on the desk (/staff/import/): one file (a .zip included) and one request at most this
# big; a zip may hold this many members inflating to this much in all (counted, not declared).
FANWEN_UPLOAD_MAX_FILE_BYTES = env_int("FANWEN_UPLOAD_MAX_FILE_BYTES", 100 * 1024 * 1024)
FANWEN_UPLOAD_MAX_REQUEST_BYTES = env_int("FANWEN_UPLOAD_MAX_REQUEST_BYTES", 300 * 1024 * 1024)
FANWEN_UPLOAD_MAX_ZIP_MEMBERS = env_int("FANWEN_UPLOAD_MAX_ZIP_MEMBERS", 10_000)
FANWEN_UPLOAD_MAX_UNZIPPED_BYTES = env_int("FANWEN_UPLOAD_MAX_UNZIPPED_BYTES", 1024 * 1024 * 1024)
# Django refuses a request with more files than this (400) before the view runs.
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("FANWEN_UPLOAD_MAX_FILES", 2000)
# The upload view also runs its batch in a thread after commit, so the desk needs no worker.
FANWEN_IMPORT_IN_THREAD = env_bool("FANWEN_IMPORT_IN_THREAD", True)
# A batch of more than 100 files is parsed in this many processes while its runner stores
# what they have parsed (0: parse in the runner).
FANWEN_IMPORT_PARSE_PROCESSES = env_int("FANWEN_IMPORT_PARSE_PROCESSES", os.cpu_count() or 1)

# --- The footer (fanwen.pages): who runs the site and its filings, shown on every page ---
# Chinese buyers look for these before paying; empty ones are left out of the footer.
FANWEN_COMPANY_NAME = env("FANWEN_COMPANY_NAME")
FANWEN_ICP_BEIAN = env("FANWEN_ICP_BEIAN")  # e.g. 京ICP备12345678号-1
FANWEN_GONGAN_BEIAN = env("FANWEN_GONGAN_BEIAN")  # e.g. 京公网安备11010502000001号

# --- 客服 (fanwen.support): tickets from the 联系客服 form, replies by mail ---
# Tickets per window per browser and per IP; the IP limit is higher (offices share one).
FANWEN_TICKET_WINDOW = env_int("FANWEN_TICKET_WINDOW", 3600)
FANWEN_TICKET_LIMIT = env_int("FANWEN_TICKET_LIMIT", 5)
FANWEN_TICKET_IP_LIMIT = env_int("FANWEN_TICKET_IP_LIMIT", 20)
# A ticket post is a few form fields: a bigger body is refused before it is parsed.
FANWEN_TICKET_MAX_BYTES = env_int("FANWEN_TICKET_MAX_BYTES", 16 * 1024)
# SMTP for replies (and account mail). Empty EMAIL_HOST: no mail, replies show on 我的购买.
EMAIL_HOST = env("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 465 if env_bool("EMAIL_USE_SSL", False) else 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", EMAIL_HOST_USER or "noreply@localhost")

# --- Orders and visitors (fanwen.orders, fanwen.accounts) ---
# An unpaid order is closed after this long; WeChat's code_url lives 2 h, so the order ends first.
FANWEN_ORDER_TTL_MINUTES = env_int("FANWEN_ORDER_TTL_MINUTES", 30)
# The anonymous buyer's identity: a signed visitor id, kept for a year.
FANWEN_VISITOR_COOKIE = env("FANWEN_VISITOR_COOKIE", "fw_visitor")
FANWEN_VISITOR_COOKIE_DAYS = env_int("FANWEN_VISITOR_COOKIE_DAYS", 365)

# plain: one human line (request_id / job appended when set); json: one JSON object a line.
FANWEN_LOG_FORMAT = env("FANWEN_LOG_FORMAT", "plain")
if FANWEN_LOG_FORMAT not in {"plain", "json"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("FANWEN_LOG_FORMAT must be plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "fanwen.ops.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s%(context)s"},
        "json": {"()": "fanwen.ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": FANWEN_LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env("FANWEN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The request line of every request (method, path, status, ms); with plain logs under
        # `fanwen serve` gunicorn's access log says the same, so it is on for JSON logs only.
        "fanwen.request": {
            "level": env(
                "FANWEN_REQUEST_LOG_LEVEL", "INFO" if FANWEN_LOG_FORMAT == "json" else "WARNING"
            )
        },
    },
}

# --- Payments (fanwen.payments) ---
# WeChat Pay v3 in public-key mode; without a merchant id (and the sandbox off) WeChat Pay is
# not offered.
WECHATPAY_MCHID = env("WECHATPAY_MCHID")
# The sandbox (fanwen.sandbox): local WeChat Pay v3 and Alipay emulators at /sandbox/ that
# anyone can "pay" with one click. Off unless asked for: `fanwen demo` / `make run` and the
# tests turn it on; with FANWEN_PRODUCTION it is a system-check error.
FANWEN_SANDBOX = env_bool("FANWEN_SANDBOX", False)
if FANWEN_SANDBOX:
    INSTALLED_APPS.append("fanwen.sandbox")
# Empty means VAR_DIR / "sandbox" (read at use, so tests can move VAR_DIR).
FANWEN_SANDBOX_DIR = env("FANWEN_SANDBOX_DIR")
# Where this site reaches its own emulator, and the emulator reaches the site's notify URL.
FANWEN_SANDBOX_ORIGIN = env("FANWEN_SANDBOX_ORIGIN", SITE_URL or "http://127.0.0.1:8000")
# The emulator's notification retries: seconds before each attempt.
FANWEN_SANDBOX_NOTIFY_DELAYS = [0, 2, 5, 15, 30, 60]
# Off in tests that deliver notifications by hand (fanwen.sandbox.notify).
FANWEN_SANDBOX_AUTO_NOTIFY = env_bool("FANWEN_SANDBOX_AUTO_NOTIFY", True)
# Sandbox WeChat refunds stay PROCESSING this many seconds (0: they succeed at once), so the
# desk's 退款中 and the worker's retry_refunds can be seen finishing one.
FANWEN_SANDBOX_REFUND_SECONDS = env_int("FANWEN_SANDBOX_REFUND_SECONDS", 0)
PAYMENT_BACKENDS: dict[str, dict] = {}
if FANWEN_SANDBOX:
    PAYMENT_BACKENDS["sandbox"] = {
        "BACKEND": "fanwen.sandbox.backends.SandboxBackend",
        "OPTIONS": {},
    }
    # The Alipay emulator at /sandbox/alipay/, with its own generated keys.
    PAYMENT_BACKENDS["alipay_sandbox"] = {
        "BACKEND": "fanwen.sandbox.backends.AlipaySandboxBackend",
        "OPTIONS": {},
    }
if WECHATPAY_MCHID:
    PAYMENT_BACKENDS["wechat"] = {
        "BACKEND": "fanwen.payments.backends.wechat.WeChatPayBackend",
        "OPTIONS": {
            "mchid": WECHATPAY_MCHID,
            "appid": env("WECHATPAY_APPID"),
            "private_key": env("WECHATPAY_PRIVATE_KEY"),
            "cert_serial_no": env("WECHATPAY_CERT_SERIAL_NO"),
            "apiv3_key": env("WECHATPAY_APIV3_KEY"),
            "public_key": env("WECHATPAY_PUBLIC_KEY"),
            "public_key_id": env("WECHATPAY_PUBLIC_KEY_ID"),
            # JSAPI (inside WeChat): the official account's secret for OAuth snsapi_base, which
            # gives the payer's openid; empty means no JSAPI. Empty URLs: WeChat's own endpoints.
            "app_secret": env("WECHATPAY_APP_SECRET"),
            "oauth_authorize_url": env("WECHAT_OAUTH_AUTHORIZE_URL"),
            "oauth_token_url": env("WECHAT_OAUTH_TOKEN_URL"),
            # Empty: SITE_URL + /pay/notify/wechat/.
            "notify_url": env("WECHATPAY_NOTIFY_URL"),
            "timeout": (
                env_int("WECHATPAY_CONNECT_TIMEOUT", 5),
                env_int("WECHATPAY_READ_TIMEOUT", 10),
            ),
        },
    }
# The alias that takes WeChat Pay ("" = not offered), notified at /pay/notify/wechat/; the
# sandbox stands in only while it is on.
PAYMENT_WECHAT_BACKEND = env(
    "PAYMENT_WECHAT_BACKEND",
    "wechat" if WECHATPAY_MCHID else ("sandbox" if FANWEN_SANDBOX else ""),
)

# --- Payments: Alipay, buyer API limits, worker (fanwen.payments) ---
ALIPAY_APPID = env("ALIPAY_APPID")
if ALIPAY_APPID:
    PAYMENT_BACKENDS["alipay"] = {
        "BACKEND": "fanwen.payments.backends.alipay.AlipayBackend",
        "OPTIONS": {
            "appid": ALIPAY_APPID,
            "app_private_key": env("ALIPAY_APP_PRIVATE_KEY"),
            "alipay_public_key": env("ALIPAY_PUBLIC_KEY"),
            # The merchant PID (2088...): notifications for another seller are refused.
            "seller_id": env("ALIPAY_SELLER_ID"),
            # Empty: SITE_URL + /pay/notify/alipay/.
            "notify_url": env("ALIPAY_NOTIFY_URL"),
            "return_url": env("ALIPAY_RETURN_URL"),
            "timeout": env_int("ALIPAY_TIMEOUT", 15),
        },
    }
# The alias that takes Alipay ("" = Alipay not offered), notified at /pay/notify/alipay/;
# without Alipay keys the sandbox's emulated Alipay takes it while the sandbox is on.
PAYMENT_ALIPAY_BACKEND = env(
    "PAYMENT_ALIPAY_BACKEND",
    "alipay" if ALIPAY_APPID else ("alipay_sandbox" if FANWEN_SANDBOX else ""),
)
# Fixed-window limits per visitor and (higher, shared by offices and schools) per IP.
FANWEN_PAY_RATE_WINDOW = env_int("FANWEN_PAY_RATE_WINDOW", 60)
FANWEN_ORDER_CREATE_LIMIT = env_int("FANWEN_ORDER_CREATE_LIMIT", 10)
FANWEN_ORDER_CREATE_IP_LIMIT = env_int("FANWEN_ORDER_CREATE_IP_LIMIT", 60)
FANWEN_ORDER_CHECK_LIMIT = env_int("FANWEN_ORDER_CHECK_LIMIT", 30)
FANWEN_ORDER_CHECK_IP_LIMIT = env_int("FANWEN_ORDER_CHECK_IP_LIMIT", 120)
# The worker: seconds between passes; pending orders are queried after this many minutes.
FANWEN_WORKER_INTERVAL_SECONDS = env_int("FANWEN_WORKER_INTERVAL_SECONDS", 60)
FANWEN_RECONCILE_AFTER_MINUTES = env_int("FANWEN_RECONCILE_AFTER_MINUTES", 2)
# Closed orders are queried this long after closing, for payments that raced the close.
FANWEN_RECONCILE_CLOSED_HOURS = env_int("FANWEN_RECONCILE_CLOSED_HOURS", 2)
# One order is asked about at most this often, however many workers run.
FANWEN_RECONCILE_REQUERY_SECONDS = env_int("FANWEN_RECONCILE_REQUERY_SECONDS", 120)
# The worker compares yesterday's WeChat trade bill once a day after this hour (Beijing time):
# WeChat has the bill ready after 10:00.
FANWEN_BILL_COMPARE_HOUR = env_int("FANWEN_BILL_COMPARE_HOUR", 10)
# Days whose compare was missed (no worker ran) are caught up, this many back at most.
FANWEN_BILL_CATCH_UP_DAYS = env_int("FANWEN_BILL_CATCH_UP_DAYS", 7)

# --- Protection (fanwen.protection) and exports (fanwen.exports) ---
# js: copy is intercepted, the HTML carries clean text; font: body paragraphs of readers
# without the right are sent remapped into the Private Use Area with a font that draws them.
FANWEN_PROTECTION = env("FANWEN_PROTECTION", "font")
# Built fonts and their maps with FANWEN_STORAGE=local; empty means VAR_DIR / "fonts" (read at
# use, so tests can move it).
FANWEN_FONT_DIR = env("FANWEN_FONT_DIR")
# A new remapping (and font) per article every this many hours, so a decoded map goes stale.
FANWEN_FONT_ROTATION_HOURS = env_int("FANWEN_FONT_ROTATION_HOURS", 24 * 7)
# The worker builds fonts (most read articles first) for at most this long per pass; the rest
# are built when first read.
FANWEN_FONT_JOB_SECONDS = env_int("FANWEN_FONT_JOB_SECONDS", 20)
# Search crawlers proven by reverse + forward DNS get the clean text; answers cached per IP.
FANWEN_CRAWLER_VERIFY = env_bool("FANWEN_CRAWLER_VERIFY", True)
FANWEN_CRAWLER_CACHE_SECONDS = env_int("FANWEN_CRAWLER_CACHE_SECONDS", 24 * 3600)
# Reading pages per minute per visitor and per IP (0 turns a limit off); people stay far below.
FANWEN_PAGE_RATE_WINDOW = env_int("FANWEN_PAGE_RATE_WINDOW", 60)
FANWEN_PAGE_RATE_LIMIT = env_int("FANWEN_PAGE_RATE_LIMIT", 40)
FANWEN_PAGE_IP_RATE_LIMIT = env_int("FANWEN_PAGE_IP_RATE_LIMIT", 240)
# Searches per minute per visitor and per IP (0 turns a limit off), besides the page limit:
# a reader refines a query a few times, a phrase walker asks hundreds.
FANWEN_SEARCH_RATE_LIMIT = env_int("FANWEN_SEARCH_RATE_LIMIT", 20)
FANWEN_SEARCH_IP_RATE_LIMIT = env_int("FANWEN_SEARCH_IP_RATE_LIMIT", 120)
# 原创度检测 (/check/): free checks a day per visitor and per IP (UTC days; 0 turns a limit
# off); a running pass or staff checks without limit. A kept report lives this many days.
FANWEN_CHECK_FREE_PER_DAY = env_int("FANWEN_CHECK_FREE_PER_DAY", 3)
FANWEN_CHECK_FREE_PER_IP_DAY = env_int("FANWEN_CHECK_FREE_PER_IP_DAY", 3)
FANWEN_CHECK_REPORT_DAYS = env_int("FANWEN_CHECK_REPORT_DAYS", 30)
# Proxies whose X-Forwarded-For / X-Real-IP name the client (IPs or CIDRs, comma separated):
# the nginx in front, e.g. 127.0.0.1. Empty: REMOTE_ADDR is the client, headers are ignored.
FANWEN_TRUSTED_PROXIES = env_list("FANWEN_TRUSTED_PROXIES", [])
# Failed password checks (/account/login/ and /admin/login/) per window: per account from one
# IP, per IP over all accounts, per account from all IPs (a browser the account used before
# is not held by the last, so strangers cannot lock the owner out).
FANWEN_LOGIN_WINDOW = env_int("FANWEN_LOGIN_WINDOW", 900)
FANWEN_LOGIN_LIMIT = env_int("FANWEN_LOGIN_LIMIT", 10)
FANWEN_LOGIN_IP_LIMIT = env_int("FANWEN_LOGIN_IP_LIMIT", 30)
FANWEN_LOGIN_ACCOUNT_LIMIT = env_int("FANWEN_LOGIN_ACCOUNT_LIMIT", 30)
# Where rate-limit counters live: "cache" (Redis when REDIS_URL is set, else per process:
# the single-process demo) or "database" (shared by all workers without Redis).
FANWEN_RATE_STORE = env(
    "FANWEN_RATE_STORE", "database" if PRODUCTION and not REDIS_URL else "cache"
)


def _check_limit_settings() -> None:
    # Imported here so the limit settings stay one block of this file.
    import ipaddress

    from django.core.exceptions import ImproperlyConfigured

    for proxy in FANWEN_TRUSTED_PROXIES:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"FANWEN_TRUSTED_PROXIES: {proxy!r} is not an IP address or network"
            ) from None
    if FANWEN_RATE_STORE not in {"cache", "database"}:
        raise ImproperlyConfigured("FANWEN_RATE_STORE must be cache or database")


_check_limit_settings()

# A pass's fair use: distinct articles copied or downloaded per day.
FANWEN_PASS_DAILY_CAP = env_int("FANWEN_PASS_DAILY_CAP", 100)
# Signed download links live this long.
FANWEN_DOWNLOAD_URL_SECONDS = env_int("FANWEN_DOWNLOAD_URL_SECONDS", 300)
# The buyer mark's key; empty derives one from SECRET_KEY.
FANWEN_MARK_KEY = env("FANWEN_MARK_KEY")

# --- Search (fanwen.search) ---
SEARCH_BACKENDS = {
    "default": {"BACKEND": "fanwen.search.backends.tantivy.TantivyBackend", "OPTIONS": {"path": ""}}
}  # "" → VAR_DIR / "search" (read at use)
FANWEN_SEARCH_USER_DICT = env("FANWEN_SEARCH_USER_DICT")  # "" → the bundled search/userdict.txt
# Each node's index follows the search log: a search first checks for new rows at most this
# often per process (seconds; 0 turns the check off, leaving the after-commit pass and the worker).
FANWEN_SEARCH_SYNC_SECONDS = float(env("FANWEN_SEARCH_SYNC_SECONDS", "1") or 1)
# This node's name in the search_node table; empty: hostname + a hash of the index folder.
FANWEN_NODE_NAME = env("FANWEN_NODE_NAME")
# Log rows are kept for nodes seen within this many days; one away longer rebuilds its index.
FANWEN_SEARCH_NODE_TTL_DAYS = env_int("FANWEN_SEARCH_NODE_TTL_DAYS", 7)
# A log id still missing after this long is a rolled-back write, not a slow commit.
FANWEN_SEARCH_GAP_SECONDS = env_int("FANWEN_SEARCH_GAP_SECONDS", 600)

# --- Search engine pushes (fanwen.seo) ---
# The worker (push_urls) sends the URL of every article published or changed to Baidu's 普通收录
# API and to IndexNow (Bing, Yandex, Seznam, Naver…). Each engine is off without its token or
# key; with the sandbox on and none set, both go to the sandbox's emulators at /sandbox/seo/.
# The origin of the pushed URLs; empty (no SITE_URL, no sandbox) turns pushing off.
FANWEN_PUSH_ORIGIN = env(
    "FANWEN_PUSH_ORIGIN", SITE_URL or (FANWEN_SANDBOX_ORIGIN if FANWEN_SANDBOX else "")
).rstrip("/")
# The token and site of 百度搜索资源平台 › 普通收录 › API提交 (site as registered there, e.g.
# https://www.example.cn; empty: the push origin).
FANWEN_BAIDU_PUSH_TOKEN = env("FANWEN_BAIDU_PUSH_TOKEN")
FANWEN_BAIDU_PUSH_SITE = env("FANWEN_BAIDU_PUSH_SITE")
FANWEN_BAIDU_PUSH_URL = env("FANWEN_BAIDU_PUSH_URL", "http://data.zz.baidu.com/urls")
# Any 8-128 letters, digits or dashes; the site serves it at /<key>.txt for the engines to check.
FANWEN_INDEXNOW_KEY = env("FANWEN_INDEXNOW_KEY")
FANWEN_INDEXNOW_URL = env("FANWEN_INDEXNOW_URL", "https://api.indexnow.org/indexnow")
# What the sandbox's emulators accept, and how many URLs its Baidu takes a day.
FANWEN_SANDBOX_BAIDU_TOKEN = "sandbox-baidu-token"
FANWEN_SANDBOX_INDEXNOW_KEY = "sandbox-indexnow-key"
FANWEN_SANDBOX_BAIDU_QUOTA = env_int("FANWEN_SANDBOX_BAIDU_QUOTA", 500)
# Seconds to connect and to read an answer.
FANWEN_PUSH_TIMEOUT = (
    env_int("FANWEN_PUSH_CONNECT_TIMEOUT", 5),
    env_int("FANWEN_PUSH_READ_TIMEOUT", 20),
)
SEO_PUSH_ENGINES: dict[str, dict] = {}
_push_host = FANWEN_PUSH_ORIGIN.partition("://")[2]
_baidu_token = FANWEN_BAIDU_PUSH_TOKEN or (FANWEN_SANDBOX_BAIDU_TOKEN if FANWEN_SANDBOX else "")
if FANWEN_PUSH_ORIGIN and _baidu_token:
    SEO_PUSH_ENGINES["baidu"] = {
        "BACKEND": "fanwen.seo.engines.BaiduPush",
        "OPTIONS": {
            "endpoint": FANWEN_BAIDU_PUSH_URL
            if FANWEN_BAIDU_PUSH_TOKEN
            else FANWEN_SANDBOX_ORIGIN + "/sandbox/seo/baidu/urls",
            "token": _baidu_token,
            # Baidu names an https site by its origin, an http one by its host.
            "site": FANWEN_BAIDU_PUSH_SITE
            or (FANWEN_PUSH_ORIGIN if FANWEN_PUSH_ORIGIN.startswith("https://") else _push_host),
            "timeout": FANWEN_PUSH_TIMEOUT,
        },
    }
_indexnow_key = FANWEN_INDEXNOW_KEY or (FANWEN_SANDBOX_INDEXNOW_KEY if FANWEN_SANDBOX else "")
if FANWEN_PUSH_ORIGIN and _indexnow_key:
    SEO_PUSH_ENGINES["indexnow"] = {
        "BACKEND": "fanwen.seo.engines.IndexNowPush",
        "OPTIONS": {
            "endpoint": FANWEN_INDEXNOW_URL
            if FANWEN_INDEXNOW_KEY
            else FANWEN_SANDBOX_ORIGIN + "/sandbox/seo/indexnow",
            "key": _indexnow_key,
            "host": _push_host,
            "key_location": f"{FANWEN_PUSH_ORIGIN}/{_indexnow_key}.txt",
            "timeout": FANWEN_PUSH_TIMEOUT,
        },
    }

# --- Deployment: bounded database waits, notification size (fanwen.lib, fanwen.payments) ---
# A writer waits at most this long for the SQLite write lock, then gets a retryable 503.
FANWEN_SQLITE_LOCK_SECONDS = env_int("FANWEN_SQLITE_LOCK_SECONDS", 10)
if DATABASES["default"]["ENGINE"] == "fanwen.lib.sqlite":
    # SQLite's own busy wait (a write outside a transaction) ends when the lock wait does.
    DATABASES["default"]["OPTIONS"]["timeout"] = FANWEN_SQLITE_LOCK_SECONDS
# Payment notifications are a few KB; larger bodies are answered 413 before being read.
FANWEN_NOTIFY_MAX_BYTES = env_int("FANWEN_NOTIFY_MAX_BYTES", 64 * 1024)

# --- Deployment: HTTPS and Content-Security-Policy (django.middleware.security, django-csp) ---
# Production answers HTTPS only: plain HTTP is redirected, and browsers are told to stay on
# HTTPS for a year (subdomains included, preload-ready). Each can be turned off from the env.
SECURE_SSL_REDIRECT = env_bool("FANWEN_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("FANWEN_HSTS_SECONDS", 365 * 24 * 3600 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("FANWEN_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("FANWEN_HSTS_PRELOAD", PRODUCTION)


def _proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """From "X-Forwarded-Proto: https" to ("HTTP_X_FORWARDED_PROTO", "https"); "" is None."""
    if not value.strip():
        return None
    name, sep, expected = value.partition(":")
    if not sep or not name.strip() or not expected.strip():
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"FANWEN_PROXY_SSL_HEADER must look like 'X-Forwarded-Proto: https', not {value!r}"
        )
    return "HTTP_" + name.strip().upper().replace("-", "_"), expected.strip()


# Trust a TLS-terminating proxy's header only when told: a client could set it otherwise.
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(env("FANWEN_PROXY_SSL_HEADER"))

# The pages load their own script, styles and fonts; the protection font's @font-face and the
# paywall's font switch are inline <style>, so styles allow 'unsafe-inline' (scripts do not).
FANWEN_CSP_DEFAULT = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _csp_directives(policy: str) -> dict[str, list[str]]:
    """From "default-src 'self'; img-src 'self' data:" to django-csp's DIRECTIVES."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


# FANWEN_CSP replaces the whole policy ("off" sends none); with FANWEN_CSP_REPORT_ONLY=1 it is
# sent as Content-Security-Policy-Report-Only (FANWEN_CSP_REPORT_URI collects the reports).
_csp = env("FANWEN_CSP", FANWEN_CSP_DEFAULT).strip()
_csp_config = (
    {"DIRECTIVES": _csp_directives(_csp + "; report-uri " + env("FANWEN_CSP_REPORT_URI"))}
    if env("FANWEN_CSP_REPORT_URI")
    else {"DIRECTIVES": _csp_directives(_csp)}
)
if _csp.lower() in {"", "off"}:
    CONTENT_SECURITY_POLICY = None
    CONTENT_SECURITY_POLICY_REPORT_ONLY = None
elif env_bool("FANWEN_CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY = None
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp_config
else:
    CONTENT_SECURITY_POLICY = _csp_config
    CONTENT_SECURITY_POLICY_REPORT_ONLY = None

# --- Operations (fanwen.ops): `fanwen serve`, /healthz, the worker's records ---
# gunicorn workers of `fanwen serve`; 0: 2 × CPUs + 1, at most FANWEN_WEB_MAX_WORKERS.
FANWEN_WEB_WORKERS = env_int("FANWEN_WEB_WORKERS", 0)
FANWEN_WEB_MAX_WORKERS = env_int("FANWEN_WEB_MAX_WORKERS", 12)
FANWEN_WEB_BIND = env("FANWEN_WEB_BIND", "127.0.0.1:8000")
# Threads per gunicorn worker (gthread); 1: sync workers.
FANWEN_WEB_THREADS = env_int("FANWEN_WEB_THREADS", 4)
# Seconds a request may take, and a stopping worker is given to finish its requests.
FANWEN_WEB_TIMEOUT = env_int("FANWEN_WEB_TIMEOUT", 60)
FANWEN_WEB_GRACEFUL_TIMEOUT = env_int("FANWEN_WEB_GRACEFUL_TIMEOUT", 30)
# Seconds an idle keep-alive connection from the proxy stays open: longer than nginx keeps its
# idle upstream connections (deploy/nginx.conf: 60 s), else gunicorn closes one just as nginx
# sends on it, and nginx answers that request 502 and counts a failure against the node.
FANWEN_WEB_KEEPALIVE = env_int("FANWEN_WEB_KEEPALIVE", 75)
# Nice value of the worker process and of the nodes' background font builds: on a shared
# machine they yield the CPU to requests (0: as the rest).
FANWEN_BACKGROUND_NICE = env_int("FANWEN_BACKGROUND_NICE", 10)
# A worker not seen for this long is late (/healthz says degraded, /staff/worker/ marks it red);
# 0: three missed passes and a minute (3 × FANWEN_WORKER_INTERVAL_SECONDS + 60).
FANWEN_WORKER_STALE_SECONDS = env_int("FANWEN_WORKER_STALE_SECONDS", 0)
# A health probe over plain HTTP (a load balancer, a monitor on the host) is not redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
