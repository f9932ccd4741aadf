"""Configuration read from the environment: one class per way of running."""
import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: OWASP Password Storage Cheat Sheet: scrypt with N=2^17, r=8, p=1 at minimum.
PRODUCTION_PASSWORD_HASH = "scrypt:131072:8:1"


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


def normalise_database_url(url):
    """Route plain ``postgresql://`` URLs to psycopg 3, the only PostgreSQL driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    """Settings shared by every environment; each can be overridden by the variable of the same name."""

    APP_ENV = "development"
    SQLALCHEMY_DATABASE_URI = None  # filled by create_app when DATABASE_URL is unset
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_CN": "中文", "en": "English"}
    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    PASSWORD_HASH_METHOD = PRODUCTION_PASSWORD_HASH
    LOGIN_MAX_FAILURES = 5
    LOGIN_MAX_FAILURES_PER_IP = 30
    LOGIN_WINDOW_SECONDS = 15 * 60
    INVITATION_DAYS = 7
    MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # one document or spreadsheet
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024  # a whole request; larger ones answer 413
    UPLOAD_FOLDER = None  # default: <instance>/uploads
    # Where uploads are kept: "local" (UPLOAD_FOLDER) or "s3" (a private bucket of S3-compatible storage).
    STORAGE_BACKEND = "local"
    S3_ENDPOINT_URL = None  # unset: AWS S3 itself; MinIO, Aliyun OSS, Tencent COS, … give their address
    S3_BUCKET = None
    S3_REGION = None
    S3_ACCESS_KEY_ID = None  # unset (both): boto3's own chain (AWS_* variables, ~/.aws, an instance role)
    S3_SECRET_ACCESS_KEY = None
    S3_PREFIX = ""  # the objects' names start with it ("shuangchuang/"), so one bucket can hold several apps
    S3_ADDRESSING_STYLE = "auto"  # "path" (MinIO) or "virtual" (Aliyun OSS, Tencent COS) when the service needs one
    SESSION_IDLE_DAYS = 7  # a login unused this long ends
    SESSION_MAX_DAYS = 30  # and every login ends this long after it began
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    SIGNUP_MAX_PER_IP = 10  # sign-ups from one address per window
    TRUSTED_PROXIES = 0  # reverse proxies in front of the app whose X-Forwarded-* headers are believed
    REDIS_URL = None
    MAIL_SERVER = None
    MAIL_PORT = 587
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_USE_TLS = True
    MAIL_FROM = "noreply@localhost"
    SCHEDULER_IN_PROCESS = False  # production runs `flask scheduler` as a process of its own
    PUBLIC_URL = None  # the address people open the app at, for links in mail sent by jobs (no request then)
    FILING_ENDPOINT_BACKOFF = (0.5, 2.0)  # seconds between the tries of sending a filing to the province
    FILING_ENDPOINT_ALLOW_PRIVATE = False  # never POST a filing to the server's own network unless told to
    # Billing (issue 9). Without STRIPE_SECRET_KEY billing is off and everything is available.
    STRIPE_SECRET_KEY = None
    STRIPE_WEBHOOK_SECRET = None
    STRIPE_API_BASE = None  # another Stripe API server (localstripe in the tests)
    STRIPE_CHECKOUT = True  # subscribe through Stripe Checkout; off: through the API with a saved payment method
    STRIPE_CUSTOMER_PORTAL = False  # link the billing page to Stripe's customer portal
    STRIPE_WEBHOOK_TOLERANCE = 300  # seconds a webhook's signed timestamp may be old
    BILLING_GRACE_DAYS = 14  # past_due keeps full access this long, then the operator's bases are read-only
    BILLING_TRIAL_DAYS = 30  # a new operator's time before it must subscribe
    # The plans an operator can subscribe to, by how many bases and housed companies they cover; each plan's
    # Stripe price (or plan) id comes from STRIPE_PRICE_<KEY>. A plan without a price id is not offered.
    # Their labels live in billing/plans.py.
    BILLING_PLANS = {
        "starter": {"max_bases": 1, "max_companies": 60, "price_id": None},
        "standard": {"max_bases": 3, "max_companies": 200, "price_id": None},
        "network": {"max_bases": 10, "max_companies": 800, "price_id": None},
    }

    def __init__(self):
        self.SECRET_KEY = os.environ.get("SECRET_KEY")
        database_url = os.environ.get("DATABASE_URL")
        if database_url:
            self.SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url)
        # PostgreSQL: the tables' owner for `flask db upgrade`; the app itself connects as DATABASE_URL's role,
        # which owns nothing and is bound by row-level security (docs/security.md).
        migration_url = os.environ.get("MIGRATION_DATABASE_URL")
        self.MIGRATION_DATABASE_URL = normalise_database_url(migration_url) if migration_url else None
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        self.UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER") or None
        self.STORAGE_BACKEND = (os.environ.get("STORAGE_BACKEND") or self.STORAGE_BACKEND).strip().lower()
        for name in ("S3_ENDPOINT_URL", "S3_BUCKET", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
            setattr(self, name, os.environ.get(name) or None)
        self.S3_PREFIX = os.environ.get("S3_PREFIX", self.S3_PREFIX)
        self.S3_ADDRESSING_STYLE = os.environ.get("S3_ADDRESSING_STYLE") or self.S3_ADDRESSING_STYLE
        self.PUBLIC_URL = (os.environ.get("PUBLIC_URL") or "").rstrip("/") or None
        self.MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
        self.MAIL_PORT = _int("MAIL_PORT", self.MAIL_PORT)
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
        self.MAIL_USE_TLS = _bool("MAIL_USE_TLS", self.MAIL_USE_TLS)
        self.MAIL_FROM = os.environ.get("MAIL_FROM", self.MAIL_FROM)
        self.LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", self.LOGIN_MAX_FAILURES)
        self.LOGIN_MAX_FAILURES_PER_IP = _int("LOGIN_MAX_FAILURES_PER_IP", self.LOGIN_MAX_FAILURES_PER_IP)
        self.LOGIN_WINDOW_SECONDS = _int("LOGIN_WINDOW_SECONDS", self.LOGIN_WINDOW_SECONDS)
        self.SESSION_IDLE_DAYS = _int("SESSION_IDLE_DAYS", self.SESSION_IDLE_DAYS)
        self.SESSION_MAX_DAYS = _int("SESSION_MAX_DAYS", self.SESSION_MAX_DAYS)
        self.REMEMBER_COOKIE_DURATION = timedelta(days=self.SESSION_MAX_DAYS)
        self.SIGNUP_MAX_PER_IP = _int("SIGNUP_MAX_PER_IP", self.SIGNUP_MAX_PER_IP)
        self.TRUSTED_PROXIES = _int("TRUSTED_PROXIES", self.TRUSTED_PROXIES)
        self.STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY") or None
        self.STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or None
        self.STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None
        self.STRIPE_CHECKOUT = _bool("STRIPE_CHECKOUT", self.STRIPE_CHECKOUT)
        self.STRIPE_CUSTOMER_PORTAL = _bool("STRIPE_CUSTOMER_PORTAL", self.STRIPE_CUSTOMER_PORTAL)
        self.BILLING_GRACE_DAYS = _int("BILLING_GRACE_DAYS", self.BILLING_GRACE_DAYS)
        self.BILLING_TRIAL_DAYS = _int("BILLING_TRIAL_DAYS", self.BILLING_TRIAL_DAYS)
        self.STRIPE_WEBHOOK_TOLERANCE = _int("STRIPE_WEBHOOK_TOLERANCE", self.STRIPE_WEBHOOK_TOLERANCE)
        self.BILLING_PLANS = {key: {**plan, "price_id": os.environ.get(f"STRIPE_PRICE_{key.upper()}") or None}
                              for key, plan in Config.BILLING_PLANS.items()}


class DevelopmentConfig(Config):
    """The embedded default: SQLite in the instance folder, a generated secret kept there too."""

    APP_ENV = "development"

    def __init__(self):
        super().__init__()
        # One process serves the pages and runs the scheduled jobs (DESIGN.md "Running").
        self.SCHEDULER_IN_PROCESS = _bool("SCHEDULER_IN_PROCESS", True)

    def finalise(self, instance_path):
        instance = Path(instance_path)
        instance.mkdir(parents=True, exist_ok=True)
        if not self.SECRET_KEY:
            key_file = instance / "secret_key"
            if not key_file.exists():
                key_file.write_text(secrets.token_hex(32))
                key_file.chmod(0o600)
            self.SECRET_KEY = key_file.read_text().strip()
        if not self.SQLALCHEMY_DATABASE_URI:
            self.SQLALCHEMY_DATABASE_URI = f"sqlite:///{instance / 'shuangchuang.db'}"


class ProductionConfig(Config):
    """Production: every secret comes from the environment; cookies only over HTTPS."""

    APP_ENV = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-session"
    REMEMBER_COOKIE_NAME = "__Host-remember"
    PREFERRED_URL_SCHEME = "https"

    def finalise(self, instance_path):
        missing = [name for name, value in (("SECRET_KEY", self.SECRET_KEY),
                                            ("DATABASE_URL", self.SQLALCHEMY_DATABASE_URI)) if not value]
        if missing:
            raise RuntimeError("Production configuration needs " + ", ".join(missing))


class TestingConfig(DevelopmentConfig):
    """Tests: the database comes from the fixture; password hashing is cheap so the suite stays fast."""

    APP_ENV = "testing"
    TESTING = True
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"

    def __init__(self):
        super().__init__()
        self.SCHEDULER_IN_PROCESS = False  # tests call run_job with a fixed clock instead

    def finalise(self, instance_path):
        if not self.SECRET_KEY:
            self.SECRET_KEY = secrets.token_hex(32)
        if not self.SQLALCHEMY_DATABASE_URI:
            raise RuntimeError("TestingConfig needs DATABASE_URL or an explicit SQLALCHEMY_DATABASE_URI")


CONFIGS = {"development": DevelopmentConfig, "production": ProductionConfig, "testing": TestingConfig}


def load_config(env_name, instance_path, overrides=None):
    """Build the configuration object for ``env_name``; raises RuntimeError when production lacks a secret."""
    config = CONFIGS[env_name]()
    for key, value in (overrides or {}).items():
        setattr(config, key, value)
    config.finalise(instance_path)
    check_storage(config)
    return config


def check_storage(config):
    """Refuse an unknown STORAGE_BACKEND or object storage without a bucket (RuntimeError, at start rather than at
    the first upload); give S3_PREFIX its one trailing slash."""
    if config.STORAGE_BACKEND not in ("local", "s3"):
        raise RuntimeError(f"STORAGE_BACKEND must be local or s3, not {config.STORAGE_BACKEND!r}")
    if config.STORAGE_BACKEND == "s3":
        if not config.S3_BUCKET:
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET (and S3_ENDPOINT_URL for a service other than "
                               "AWS S3; docs/deploy.md, \"Object storage\")")
        if config.S3_ADDRESSING_STYLE not in ("auto", "path", "virtual"):
            raise RuntimeError(f"S3_ADDRESSING_STYLE must be auto, path or virtual, not "
                               f"{config.S3_ADDRESSING_STYLE!r}")
    prefix = (config.S3_PREFIX or "").strip("/")
    config.S3_PREFIX = prefix + "/" if prefix else ""
