"""A small HTTP load generator for the page benchmark (issue 11): standard library only.

A ``Client`` is one browser: a persistent ``http.client`` connection to the server (reopened when the server closes
it: gunicorn's sync workers answer ``Connection: close``), its own cookies, and the real login form (the CSRF token
read from the page). ``run_rounds`` drives several clients at once from threads and times every request.
"""
import http.client
import random
import re
import statistics
import threading
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

_HIDDEN = re.compile(r'<input[^>]*\bname="(?P<name>[^"]+)"[^>]*\btype="hidden"[^>]*\bvalue="(?P<value>[^"]*)"')


class BenchError(RuntimeError):
    """A request of the benchmark did not answer what it should."""


def hidden_fields(html):
    """{name: value} of the hidden inputs of ``html`` (the CSRF token, a form's version)."""
    return {match["name"]: match["value"] for match in _HIDDEN.finditer(html)}


class Client:
    """One user agent on a keep-alive connection, with its cookies."""

    def __init__(self, host, port, timeout=60):
        self.host, self.port, self.timeout = host, port, timeout
        self.connection = http.client.HTTPConnection(host, port, timeout=timeout)
        self.cookies = {}

    def request(self, method, path, fields=None):
        """Send one request; returns (status, headers, body as text). Follows no redirect."""
        headers = {"Host": f"{self.host}:{self.port}", "Accept-Language": "zh-CN"}
        body = None
        if fields is not None:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server had closed: open a new one and send again (once).
                self.connection.close()
                if attempt == 2:
                    raise
        for header in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or (not morsel.value and morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.will_close:
            self.connection.close()
        return response.status, response.msg, data.decode("utf-8", "replace")

    def get(self, path):
        return self.request("GET", path)

    def post_form(self, page, action, fields):
        """Open ``page``, then post ``fields`` with the page's hidden fields (CSRF token, version) to ``action``.
        Returns (status, headers, body) of the post."""
        status, _, html = self.get(page)
        if status != 200:
            raise BenchError(f"GET {page} answered {status}")
        return self.request("POST", action, {**hidden_fields(html), **fields})

    def login(self, email, password):
        """Log in through the login form, as a browser does. Raises BenchError when it fails."""
        status, headers, body = self.post_form("/login", "/login", {"email": email, "password": password})
        if status != 302:
            raise BenchError(f"login of {email} answered {status}: {body[:300]}")
        return self

    def close(self):
        self.connection.close()


def percentile(values, fraction):
    """The nearest-rank percentile of ``values`` (``fraction`` 0.95 for p95)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(len(ordered) * fraction + 0.5) - 1))]


def summary(values):
    return {"n": len(values), "median": statistics.median(values), "p95": percentile(values, 0.95),
            "max": max(values)}


def run_rounds(make_clients, pages, *, rounds, concurrency, warmup=3, seed=1):
    """Time GETs of ``pages`` from ``concurrency`` threads at once.

    ``make_clients(n)`` returns the n-th thread's clients by key (each logged in as needed); ``pages`` is
    [(name, client key, path)]. Each thread first requests every page ``warmup`` times untimed, then ``rounds``
    times timed, the pages in a new random order each round (so drift of the machine spreads over every page).
    Returns ({name: [milliseconds]}, requests per second over the timed part). Raises BenchError on an answer
    other than 200.
    """
    times = {name: [] for name, _, _ in pages}
    errors = []
    lock = threading.Lock()
    ready = threading.Barrier(concurrency + 1)
    done_at = []

    def worker(n):
        try:
            clients = make_clients(n)
            rng = random.Random(f"{seed}-{n}")
            for _ in range(warmup):
                for name, key, path in pages:
                    _checked(clients[key], name, path)
        except BaseException as error:  # reported after the run; the barrier must not wait for this thread
            errors.append(error)
            ready.abort()
            return
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            return
        mine = {name: [] for name, _, _ in pages}
        try:
            for _ in range(rounds):
                order = list(pages)
                rng.shuffle(order)
                for name, key, path in order:
                    started = time.perf_counter()
                    _checked(clients[key], name, path)
                    mine[name].append((time.perf_counter() - started) * 1000)
        except BaseException as error:
            errors.append(error)
        with lock:
            for name, values in mine.items():
                times[name].extend(values)
            done_at.append(time.perf_counter())
        for client in clients.values():
            client.close()

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pass
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    elapsed = max(done_at) - started
    return times, sum(len(values) for values in times.values()) / elapsed


def _checked(client, name, path):
    status, _, body = client.get(path)
    if status != 200:
        raise BenchError(f"{name}: GET {path} answered {status}: {body[:300]}")
    return body
