"""Passwords (scrypt hashes, strength rules) and login throttling with counters shared across processes."""
import hashlib
import secrets
import threading
import time

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_SCORE = 3  # zxcvbn 0-4: 3 is "safely unguessable: moderate protection from offline attacks"
# zxcvbn's dictionaries are English: the pinyin words and number codes that top the leaked Chinese password lists
# (我爱你 woaini, 一生一世 1314, 我爱你 520, 我是谁 woshishui, 我的密码 wodemima, common names and cities) would
# otherwise score as strong. They are given to zxcvbn as extra dictionary words, so a password built from them
# scores low.
COMMON_CHINESE_PASSWORD_WORDS = (
    "woaini", "aini", "1314", "520", "5201314", "1314520", "woshishui", "wodemima", "mima", "caonima", "nihao",
    "zhongguo", "woaiwojia", "woaiwoma", "wojiushiwo", "laopo", "laogong", "yiersan", "tiantian", "xiaoming",
    "zhangwei", "wangwei", "wangfang", "liwei", "lijing", "wangjing", "zhangmin", "liuyang", "beijing",
    "shanghai", "guangzhou", "shenzhen", "huawei", "xiaomi", "baidu", "taobao", "weixin", "qq", "shuangchuang",
)


def hash_password(password):
    """Hash with the configured scrypt cost (production: OWASP's N=2^17, r=8, p=1)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash, password):
    """True when ``password`` matches ``password_hash``. With no hash (no such account) the check still runs,
    against a throwaway hash, so response time does not reveal which accounts exist."""
    if password_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)


def _dummy_hash():
    cached = current_app.extensions.get("dummy_password_hash")
    if cached is None:
        cached = current_app.extensions["dummy_password_hash"] = hash_password(secrets.token_hex(8))
    return cached


def password_problem(password, user_inputs=()):
    """Why ``password`` is too weak, as a translatable message, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    # zxcvbn refuses more than 72 characters; a long password is judged by its first 72.
    inputs = [value[:72] for value in user_inputs if value] + list(COMMON_CHINESE_PASSWORD_WORDS)
    result = zxcvbn(password[:72], user_inputs=inputs)
    if result["score"] < MIN_PASSWORD_SCORE:
        return _l("This password is too common or easy to guess; "
                  "mix words, digits and symbols that are not about you.")
    return None


class MemoryCounter:
    """Fixed-window counters in this process (the embedded default, one process)."""

    def __init__(self):
        self._counts = {}
        self._lock = threading.Lock()

    def incr(self, key, window, amount=1):
        now = time.monotonic()
        with self._lock:
            count, expires = self._counts.get(key, (0, now + window))
            if expires <= now:
                count, expires = 0, now + window
            count = max(count + amount, 0)
            self._counts[key] = (count, expires)
            return count

    def reset(self, key):
        with self._lock:
            self._counts.pop(key, None)


class RedisCounter:
    """Fixed-window counters in Redis, shared by every worker (``REDIS_URL`` set)."""

    def __init__(self, url):
        import redis

        self._redis = redis.Redis.from_url(url)

    def incr(self, key, window, amount=1):
        pipe = self._redis.pipeline()
        pipe.incrby(key, amount)
        pipe.expire(key, window, nx=True)
        count, _ = pipe.execute()
        return max(int(count), 0)

    def reset(self, key):
        self._redis.delete(key)


def init_counters(app):
    app.extensions["login_counter"] = (RedisCounter(app.config["REDIS_URL"]) if app.config.get("REDIS_URL")
                                       else MemoryCounter())


def _key(*parts):
    # Keys are namespaced by the installation (a hash of its secret, never the secret itself) and hold no
    # personal data: the email is hashed too.
    digest = hashlib.sha256(current_app.config["SECRET_KEY"].encode()).hexdigest()[:12]
    return ":".join(("throttle", digest) + parts)


def _account_key(email):
    return _key("account", hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32])


def _counter():
    return current_app.extensions["login_counter"]


def register_login_attempt(email, ip):
    """Count a password attempt before checking it; False when the account or the address is over its limit.

    Counting first makes the check atomic: parallel guesses cannot all slip in under the limit.
    """
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    account = _counter().incr(_account_key(email), window)
    address = _counter().incr(_key("ip", ip), window)
    return (account <= current_app.config["LOGIN_MAX_FAILURES"]
            and address <= current_app.config["LOGIN_MAX_FAILURES_PER_IP"])


def login_succeeded(email, ip):
    """A right password: the account starts afresh and the attempt does not count against the address."""
    _counter().reset(_account_key(email))
    _counter().incr(_key("ip", ip), current_app.config["LOGIN_WINDOW_SECONDS"], amount=-1)


def register_signup(ip):
    """Count a sign-up from ``ip``; False when the address has made too many in the window."""
    count = _counter().incr(_key("signup", ip), current_app.config["LOGIN_WINDOW_SECONDS"])
    return count <= current_app.config["SIGNUP_MAX_PER_IP"]
