"""Passwords (scrypt hashes, strength rules) and login throttling with counters shared across processes."""
import hashlib
import threading
import time

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_SCORE = 3  # zxcvbn 0-4: 3 is "safely unguessable: moderate protection from offline attacks"


def hash_password(password):
    """Hash with the configured scrypt cost (production: OWASP's N=2^17, r=8, p=1)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash, password):
    return check_password_hash(password_hash, password)


def password_problem(password, user_inputs=()):
    """Why ``password`` is too weak, as a translatable message, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    result = zxcvbn(password[:100], user_inputs=[value for value in user_inputs if value])
    if result["score"] < MIN_PASSWORD_SCORE:
        return _l("This password is too common or easy to guess; "
                  "mix words, digits and symbols that are not about you.")
    return None


class MemoryCounter:
    """Fixed-window counters in this process (the embedded default, one process)."""

    def __init__(self):
        self._counts = {}
        self._lock = threading.Lock()

    def incr(self, key, window):
        now = time.monotonic()
        with self._lock:
            count, expires = self._counts.get(key, (0, now + window))
            if expires <= now:
                count, expires = 0, now + window
            count += 1
            self._counts[key] = (count, expires)
            return count

    def get(self, key):
        with self._lock:
            count, expires = self._counts.get(key, (0, 0))
            return count if expires > time.monotonic() else 0

    def reset(self, key):
        with self._lock:
            self._counts.pop(key, None)


class RedisCounter:
    """Fixed-window counters in Redis, shared by every worker (``REDIS_URL`` set)."""

    def __init__(self, url):
        import redis

        self._redis = redis.Redis.from_url(url)

    def incr(self, key, window):
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def get(self, key):
        value = self._redis.get(key)
        return int(value) if value else 0

    def reset(self, key):
        self._redis.delete(key)


def init_counters(app):
    app.extensions["login_counter"] = (RedisCounter(app.config["REDIS_URL"]) if app.config.get("REDIS_URL")
                                       else MemoryCounter())


def _keys(email, ip):
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    prefix = "login-fail:" + current_app.config["SECRET_KEY"][:8]
    return f"{prefix}:account:{account}", f"{prefix}:ip:{ip}"


def login_blocked(email, ip):
    """True when the account or the address has used up its failed attempts in the current window."""
    counter = current_app.extensions["login_counter"]
    account_key, ip_key = _keys(email, ip)
    return (counter.get(account_key) >= current_app.config["LOGIN_MAX_FAILURES"]
            or counter.get(ip_key) >= current_app.config["LOGIN_MAX_FAILURES_PER_IP"])


def record_login_failure(email, ip):
    counter = current_app.extensions["login_counter"]
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    for key in _keys(email, ip):
        counter.incr(key, window)


def clear_login_failures(email, ip):
    counter = current_app.extensions["login_counter"]
    counter.reset(_keys(email, ip)[0])
