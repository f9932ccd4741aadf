"""Sending a filing's JSON to the provincial platform: one POST of the stored file, retried while the platform
cannot answer, every try kept as a FilingAttempt.

Only the standard library speaks HTTP here (urllib). Redirects are not followed: urllib would turn the POST into
a GET without the document, and a 200 from that page would look like an acceptance.
"""
import hashlib
import json
import http.client
import ipaddress
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from ..extensions import db
from ..storage import storage
from ..timeutil import utcnow
from .exports import filing_json
from .models import FilingAttempt

#: Seconds to wait before the second and the third try (a later try waits the last one).
DEFAULT_BACKOFF = (0.5, 2.0)
#: What a FilingAttempt keeps of an answer or an error.
RESPONSE_CHARS = 2000
#: What is read of an answer at most (the platform answers with a short acknowledgement).
READ_BYTES = 64 * 1024
#: Answers worth another try besides any 5xx: the platform is busy, not refusing the document.
RETRY_STATUSES = frozenset({429})


@dataclass(frozen=True)
class Answer:
    """How a submission ended: ``message`` (translated) says what the platform did, for the manager."""

    succeeded: bool
    message: str
    status_code: int | None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx is raised as an HTTPError and counts as a refusal


def _opener():
    return urllib.request.build_opener(_NoRedirect())


def idempotency_key(filing, body=None):
    """The same for every send of the same version with the same figures (so the platform can drop a repeat,
    also one sent again on a later day); a draft regenerated with other figures gets another key, so it is not
    taken for the earlier document. The day the figures were read (``as_of``) is not part of them."""
    figures = {key: value for key, value in filing.figures.items() if key != "as_of"}
    digest = hashlib.sha256(json.dumps(figures, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    return f"filing-{filing.base_id}-{filing.year}Q{filing.quarter}-v{filing.version}-{digest[:16]}"


def document_bytes(filing):
    """The bytes sent: the stored JSON file, exactly what the filing's JSON download gives."""
    if filing.json_file is not None:
        return storage().read(filing.json_file.key)
    return filing_json(filing)


def send(filing, settings, *, by, now=None, attempts=3, backoff=None, timeout=10, sleep=time.sleep):
    """POST ``filing``'s JSON to ``settings.endpoint_url``, retrying connection errors, time-outs, 5xx and 429.

    ``backoff``: the seconds between tries (default: the app's FILING_ENDPOINT_BACKOFF, else DEFAULT_BACKOFF).
    ``now``: the moment of the first try (later tries add the time that passed). Adds one FilingAttempt per try
    and flushes; never commits. Raises nothing for what the network or the platform does: it is in the Answer.
    """
    url = settings.endpoint_url
    token = settings.endpoint_token or ""
    if backoff is None:
        backoff = current_app.config.get("FILING_ENDPOINT_BACKOFF", DEFAULT_BACKOFF)
    started, clock = now or utcnow(), time.monotonic()

    def moment():
        """When a try starts: ``now`` for the first, plus the time passed since for the next ones."""
        return started + timedelta(seconds=time.monotonic() - clock)

    def record(at, status_code, succeeded, text):
        text = text.replace(token, "***") if token else text  # a platform echoing the token must not store it
        db.session.add(FilingAttempt(filing=filing, attempted_at=at, url=url[:500], status_code=status_code,
                                     succeeded=succeeded, response=text[:RESPONSE_CHARS],
                                     by_id=by.id if by is not None else None))
        db.session.flush()

    refused = _refused_address(url)
    if refused is not None:
        record(started, None, False, refused)
        return Answer(False, refused, None)

    body = document_bytes(filing)
    headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
               "Idempotency-Key": idempotency_key(filing, body)}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    tries = max(1, attempts)
    for number in range(1, tries + 1):
        if number > 1:
            sleep(backoff[min(number - 2, len(backoff) - 1)] if backoff else 0)
        at = started if number == 1 else moment()
        status, text, problem, retry = _post(url, body, headers, timeout)
        succeeded = status is not None and 200 <= status < 300
        record(at, status, succeeded, text)
        if succeeded:
            return Answer(True, _("accepted by the platform (HTTP %(status)d)", status=status), status)
        if not retry or number == tries:
            break
    if number > 1:
        problem = _("%(error)s, after %(n)d tries", error=problem, n=number)
    return Answer(False, problem, status)


def _post(url, body, headers, timeout):
    """One try: (status or None, text to keep, what went wrong for the manager, whether another try may help)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener().open(request, timeout=timeout) as response:
            return response.status, _read(response), _("HTTP %(status)d from the platform",
                                                       status=response.status), False
    except urllib.error.HTTPError as error:
        status, text = error.code, _read(error)
        error.close()
        problem = _("HTTP %(status)d from the platform", status=status)
        if 300 <= status < 400:
            problem = _("HTTP %(status)d from the platform (a redirect: check the address)", status=status)
        elif 400 <= status < 500 and status != 429 and text.strip():
            problem = _("HTTP %(status)d from the platform: %(answer)s", status=status, answer=_shorten(text))
        return status, text, problem, status >= 500 or status in RETRY_STATUSES
    except (TimeoutError, socket.timeout) as error:
        return None, f"timeout: {error}", _no_answer(_("timed out after %(n)s seconds", n=timeout)), True
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            return None, f"{reason}", _no_answer(_("its certificate was not accepted")), False
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return None, f"timeout: {reason}", _no_answer(_("timed out after %(n)s seconds", n=timeout)), True
        if isinstance(reason, ConnectionRefusedError):
            return None, f"{reason}", _no_answer(_("connection refused")), True
        if isinstance(reason, socket.gaierror):
            return None, f"{reason}", _no_answer(_("the address could not be found")), True
        return None, f"{reason}", _no_answer(str(reason)), True
    except (OSError, ValueError, http.client.HTTPException) as error:  # reset, closed, a malformed answer
        return None, f"{type(error).__name__}: {error}", _no_answer(_("the connection broke off")), True


def _read(response):
    try:
        data = response.read(READ_BYTES)
    except (OSError, ValueError):
        return ""
    return data.decode("utf-8", errors="replace")


def _shorten(text, limit=200):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _no_answer(reason):
    return _("no answer from the platform (%(reason)s)", reason=reason)


def _refused_address(url):
    """Why ``url`` is not sent to, or None. Only http(s); and, unless FILING_ENDPOINT_ALLOW_PRIVATE is set, no
    address inside the server's own network (a base's manager could otherwise make the server call, and show
    the answers of, internal services)."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("The platform's address must start with https:// (or http://).")
    if current_app.config.get("FILING_ENDPOINT_ALLOW_PRIVATE", False):
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError, ValueError):
        return _no_answer(_("the address could not be found"))
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            return _("The platform's address points inside the server's own network; it is not called.")
    return None
