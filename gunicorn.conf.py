"""gunicorn's settings for production: `gunicorn wsgi:app`, run from the project folder, reads this file
(docs/deploy.md, "The web app"). A command-line option or GUNICORN_CMD_ARGS overrides any of them."""
import multiprocessing
import os

# Only the reverse proxy (nginx on the same machine) talks to gunicorn; it is never exposed directly.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, each its own process with its own database pool: (2 x cores) + 1 unless WEB_CONCURRENCY says.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
# A quarterly filing regenerated on a click or a large xlsx import takes seconds, never a minute.
timeout = 60
graceful_timeout = 30
keepalive = 5
# Workers are replaced now and then, so a slow leak in a library never grows without bound.
max_requests = 2000
max_requests_jitter = 200
# No preloading: each worker builds the app after the fork, so no database connection (the start-up check of
# the app's role opens one) is shared between processes.
preload_app = False
# X-Forwarded-* are believed from the proxy only; the app itself trusts TRUSTED_PROXIES hops (ProxyFix).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Errors to stderr (the journal under systemd); nginx keeps the access log.
errorlog = "-"
loglevel = "info"


def post_worker_init(worker):
    """Move what the worker built at start-up (the app, its templates' environment, the mappers, the catalogues:
    some 200,000 objects) out of the garbage collector's reach. A full collection otherwise walks them all again
    every so many requests: about 130 ms added to one request in twenty on a 300-company base's dashboard
    (benchmarks/RESULTS.md, "Garbage collection"). The objects stay alive for the worker's life anyway."""
    import gc

    gc.freeze()
