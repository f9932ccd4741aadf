"""Sending a filing to the provincial platform, against a real HTTP server on a loopback port: what is sent (the
stored JSON, the token, one idempotency key for every try), which answers are tried again, what every try leaves
in FilingAttempt (never the token), and the submit page: accepted freezes the version, refused keeps the draft."""
import json
import socket
import threading
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from operator_app.accounts.models import Base, User
from operator_app.db import scoped_to
from operator_app.extensions import db
from operator_app.filings import endpoint, services
from operator_app.filings.models import FilingAttempt, FilingSettings, QuarterlyFiling
from operator_app.filings.quarterly import quarter_months
from operator_app.storage import storage
from tenants import report_services
from tenants.models import TenantCompany

JUL, AUG, SEP = quarter_months(2026, 3)
TOKEN = "s3cret-token"
NOW = datetime(2026, 10, 20, 2, 0, tzinfo=timezone.utc)


class Platform:
    """A provincial platform on a free loopback port: answers each POST with the next scripted (status, body)
    (the last one again once the script is used up), and keeps what it received."""

    def __init__(self, script, delay=0.0):
        self.script, self.delay, self.received = list(script), delay, []
        self.closing = threading.Event()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                platform.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, answer = platform.script.pop(0) if len(platform.script) > 1 else platform.script[0]
                if platform.delay:
                    platform.closing.wait(platform.delay)  # a platform too slow to answer in time
                answer = answer.replace("{auth}", self.headers.get("Authorization", "")).encode()
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the client gave up on a slow answer: writing it fails, as intended

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/filings"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


def closed_port_url():
    """The address of a loopback port nobody listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/filings"


@pytest.fixture
def loopback_allowed(app, monkeypatch):
    """The test platform listens on 127.0.0.1, an address a real base may not point the server at."""
    monkeypatch.setitem(app.config, "FILING_ENDPOINT_ALLOW_PRIVATE", True)
    monkeypatch.setitem(app.config, "FILING_ENDPOINT_BACKOFF", (0.01, 0.01))


def draft_filing(app, factory):
    """A base with one company that reported July, and its 2026 Q3 filing (a draft). Returns (base, filing id)."""
    base = factory.base()
    company = factory.company(base, n=1, name="甲公司", moved_in_on=date(2026, 1, 1))
    with app.test_request_context(), scoped_to(base.id):
        report_services.save_report(db.session.get(TenantCompany, company), JUL,
                                    {"revenue_fen": 1_234_567, "tax_fen": 61_728, "employees": 3},
                                    base=db.session.get(Base, base.id), submit=True, reason="",
                                    today=date(2026, 10, 5), by=db.session.get(User, base.owner.id), on_behalf=True)
        filing = services.generate(db.session.get(Base, base.id), 2026, 3, today=date(2026, 10, 20))
        db.session.commit()
        return base, filing.id


def send(app, base, filing_id, url, token=TOKEN, **options):
    """Send the filing as the manager, committed; returns (answer, [(status, succeeded, response)], JSON bytes,
    the waits between tries)."""
    waits = []
    with app.test_request_context(), scoped_to(base.id):
        filing = db.session.get(QuarterlyFiling, filing_id)
        earlier = len(filing.attempts)
        settings = FilingSettings(endpoint_url=url, endpoint_token=token)
        answer = endpoint.send(filing, settings, by=db.session.get(User, base.owner.id), now=NOW,
                               sleep=waits.append, **options)
        db.session.commit()
        attempts = db.session.scalars(select(FilingAttempt).where(FilingAttempt.filing_id == filing_id)
                                      .order_by(FilingAttempt.id)).all()
        rows = [(a.status_code, a.succeeded, a.response) for a in attempts]
        assert all(a.url == url and a.by_id == base.owner.id for a in attempts[earlier:])
        return answer, rows, storage().read(filing.json_file.key), waits


def test_a_busy_platform_is_tried_again_with_the_same_key_and_the_stored_file(app, factory, loopback_allowed):
    base, filing_id = draft_filing(app, factory)
    with Platform([(503, '{"error": "busy"}'), (200, '{"ok": true, "seen": "{auth}"}')]) as platform:
        answer, attempts, stored_json, waits = send(app, base, filing_id, platform.url, backoff=(0.25, 1.0))
    assert (answer.succeeded, answer.status_code) == (True, 200)
    assert answer.message == "省级平台已接收（HTTP 200）"
    assert [(status, ok) for status, ok, _ in attempts] == [(503, False), (200, True)]
    assert attempts[0][2] == '{"error": "busy"}'
    assert attempts[1][2] == '{"ok": true, "seen": "Bearer ***"}'         # the platform echoed it: not kept
    assert waits == [0.25]
    first, second = platform.received
    assert first["body"] == second["body"] == stored_json                 # exactly the JSON download
    assert json.loads(stored_json)["money_fen"] == {"revenue": 1_234_567, "tax": 61_728}
    assert first["path"] == "/api/filings"
    assert first["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert first["headers"]["Content-Type"] == "application/json; charset=utf-8"
    key = first["headers"]["Idempotency-Key"]
    assert key == second["headers"]["Idempotency-Key"] and key.startswith(f"filing-{base.id}-2026Q3-v1-")
    with app.app_context(), scoped_to(base.id):
        times = db.session.scalars(select(FilingAttempt.attempted_at).order_by(FilingAttempt.id)).all()
        assert all(TOKEN not in a.response for a in db.session.scalars(select(FilingAttempt)))
    assert times[0].replace(tzinfo=timezone.utc) == NOW and times[1] >= times[0]


def test_a_refusal_is_not_tried_again_and_its_reason_is_shown(app, factory, loopback_allowed):
    base, filing_id = draft_filing(app, factory)
    with Platform([(401, '{"error": "invalid token"}')]) as platform:
        answer, attempts, _, waits = send(app, base, filing_id, platform.url, token="")
    assert (answer.succeeded, answer.status_code) == (False, 401)
    assert answer.message == '省级平台返回 HTTP 401：{"error": "invalid token"}'
    assert attempts == [(401, False, '{"error": "invalid token"}')] and waits == []
    assert "Authorization" not in platform.received[0]["headers"]           # no token set, none sent


def test_a_platform_down_is_tried_three_times_then_reported(app, factory, loopback_allowed):
    base, filing_id = draft_filing(app, factory)
    with Platform([(500, "internal error")]) as platform:
        answer, attempts, _, waits = send(app, base, filing_id, platform.url)
    assert (answer.succeeded, answer.status_code) == (False, 500)
    assert answer.message == "省级平台返回 HTTP 500，共尝试 3 次"
    assert attempts == [(500, False, "internal error")] * 3 and len(platform.received) == 3
    assert waits == [0.01, 0.01]                                          # the app's backoff
    assert len({request["headers"]["Idempotency-Key"] for request in platform.received}) == 1


def test_no_answer_is_tried_again_and_recorded_without_a_status(app, factory, loopback_allowed):
    base, filing_id = draft_filing(app, factory)
    answer, attempts, _, waits = send(app, base, filing_id, closed_port_url(), attempts=2, backoff=(0.5,))
    assert (answer.succeeded, answer.status_code) == (False, None)
    assert answer.message == "省级平台无响应（连接被拒绝），共尝试 2 次"
    assert [(status, ok) for status, ok, _ in attempts] == [(None, False), (None, False)]
    assert "refused" in attempts[0][2].lower() and waits == [0.5]

    with Platform([(200, "{}")], delay=1.0) as platform:
        answer, attempts, _, _ = send(app, base, filing_id, platform.url, attempts=1, timeout=0.2)
    assert (answer.succeeded, answer.status_code) == (False, None)
    assert answer.message == "省级平台无响应（等待 0.2 秒后超时）"
    assert attempts[-1][:2] == (None, False) and len(attempts) == 3


def test_a_redirect_is_not_followed(app, factory, loopback_allowed):
    base, filing_id = draft_filing(app, factory)
    with Platform([(302, ""), (200, "{}")]) as platform:
        answer, attempts, _, _ = send(app, base, filing_id, platform.url)
    assert (answer.succeeded, answer.status_code) == (False, 302)
    assert [request["path"] for request in platform.received] == ["/api/filings"]   # no GET of /elsewhere
    assert [(status, ok) for status, ok, _ in attempts] == [(302, False)]


def test_an_address_inside_the_servers_network_is_not_called(app, factory, monkeypatch):
    base, filing_id = draft_filing(app, factory)
    with Platform([(200, "{}")]) as platform:
        answer, attempts, _, _ = send(app, base, filing_id, platform.url)
        refused_scheme, _, _, _ = send(app, base, filing_id, "file:///etc/passwd")
    assert platform.received == []
    assert (answer.succeeded, answer.status_code) == (False, None)
    assert answer.message == "省级平台地址指向服务器所在的内部网络，不予调用。"
    assert refused_scheme.message == "省级平台地址须以 https://（或 http://）开头。"
    assert [(status, ok) for status, ok, _ in attempts] == [(None, False)]


# --- Through the submit page -------------------------------------------------------------------------------------

def save_endpoint(browser, base, url):
    response = browser.post(f"/b/{base.slug}/filings/settings", {"deadline_days": "10", "endpoint_url": url,
                                                                  "endpoint_token": TOKEN})
    assert response.status_code == 302, response.get_data(as_text=True)


def filing_state(app, base, filing_id):
    with app.app_context(), scoped_to(base.id):
        filing = db.session.get(QuarterlyFiling, filing_id)
        return filing.status, filing.submitted_via, [(a.status_code, a.succeeded) for a in filing.attempts]


def test_submitting_sends_the_filing_and_freezes_it_once_accepted(app, factory, browser, loopback_allowed):
    base, filing_id = draft_filing(app, factory)
    browser.login(base.owner)
    page = f"/b/{base.slug}/filings/{filing_id}"
    with Platform([(200, '{"receipt": "SX-2026Q3-0001"}')]) as platform:
        save_endpoint(browser, base, platform.url)
        response = browser.post(f"{page}/submit", {"note": ""}, form_page=page, follow_redirects=True)
    assert response.status_code == 200
    assert filing_state(app, base, filing_id) == ("submitted", "endpoint", [(200, True)])
    assert len(platform.received) == 1
    assert platform.received[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    html = response.get_data(as_text=True)
    assert 'data-status="submitted"' in html and TOKEN not in html


def test_a_platform_that_keeps_failing_leaves_the_draft_and_says_why(app, factory, browser, loopback_allowed):
    base, filing_id = draft_filing(app, factory)
    browser.login(base.owner)
    page = f"/b/{base.slug}/filings/{filing_id}"
    with Platform([(500, "internal error")]) as platform:
        save_endpoint(browser, base, platform.url)
        response = browser.post(f"{page}/submit", {"note": ""}, form_page=page, follow_redirects=True)
    assert len(platform.received) == 3
    assert filing_state(app, base, filing_id) == ("draft", None, [(500, False)] * 3)   # the tries are kept
    html = response.get_data(as_text=True)
    assert "省级平台未接收报送：省级平台返回 HTTP 500，共尝试 3 次。未标记为已报送" in html
    assert 'data-status="draft"' in html and 'id="filing-attempts"' in html and TOKEN not in html


def test_the_key_changes_when_a_draft_is_regenerated_with_other_figures(app, factory, loopback_allowed):
    base, filing_id = draft_filing(app, factory)
    with Platform([(500, "down")]) as platform:
        send(app, base, filing_id, platform.url, attempts=1)
        send(app, base, filing_id, platform.url, attempts=1)                 # the same bytes: the same key
        with app.test_request_context(), scoped_to(base.id):
            company = db.session.scalar(select(TenantCompany))
            report_services.save_report(company, AUG, {"revenue_fen": 5, "tax_fen": 0, "employees": 3},
                                        base=db.session.get(Base, base.id), submit=True, reason="",
                                        today=date(2026, 10, 21), by=db.session.get(User, base.owner.id),
                                        on_behalf=True)
            services.generate(db.session.get(Base, base.id), 2026, 3, today=date(2026, 10, 21),
                              now=NOW + timedelta(days=1))
            db.session.commit()
        send(app, base, filing_id, platform.url, attempts=1)
    keys = [request["headers"]["Idempotency-Key"] for request in platform.received]
    assert keys[0] == keys[1] != keys[2]
    assert json.loads(platform.received[2]["body"])["money_fen"]["revenue"] == 1_234_567 + 5
