"""Security headers on every response: CSP, HSTS in production, no sniffing, no framing, no caching of private pages.

Issue 10 item 5. Templates carry no inline script, event handler or style attribute: behaviour lives in
static/js and styles in static/css, so the policy can stay at 'self' without hashes or nonces.
"""
from flask import current_app, request, session
from flask_login import current_user

# Each directive is 'self' unless the app really needs more. Bootstrap's own CSS draws some icons (a select's
# arrow, a checkbox's tick) as data: SVG images, hence img-src data:.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# Browsers apply form-action to the redirects that follow a form's POST too: subscribing, the customer portal
# and paying a bill online answer a 303 to Stripe Checkout or the Stripe billing portal, so with billing on
# those two origins are added to form-action (and nothing else).
STRIPE_FORM_TARGETS = ("https://checkout.stripe.com", "https://billing.stripe.com")
# same-origin: invitation and check-in links carry tokens in their path; no other site gets our URLs.
REFERRER_POLICY = "same-origin"
# No page uses the camera, microphone, location or the Payment Request API (photos are uploaded as files,
# which the phone's own camera app can take without this permission).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"
# Files the app serves as they are, the same for everyone: the only responses a browser or proxy may cache.
STATIC_ENDPOINTS = frozenset({"static", "bootstrap.static"})


def content_security_policy(config):
    """The CSP for an app with ``config``: the fixed policy, plus Stripe's pages in form-action when billing is on."""
    if not config.get("STRIPE_SECRET_KEY"):
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'",
                                           "form-action 'self' " + " ".join(STRIPE_FORM_TARGETS))


def _is_private(response):
    """Whether ``response`` belongs to one person: a logged-in user's, one that sets or clears a cookie (the
    session, the remember-me or the check-in cookie), or one made from a session (a form's CSRF token)."""
    if "Set-Cookie" in response.headers:
        return True
    app = current_app._get_current_object()
    if app.session_interface.should_set_cookie(app, session) or (session.accessed and session):
        return True
    return current_user.is_authenticated


def add_security_headers(response):
    """after_request: the headers above; Cache-Control: no-store on private responses except static files."""
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(current_app.config)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = REFERRER_POLICY
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    if current_app.config.get("APP_ENV") == "production":
        headers["Strict-Transport-Security"] = HSTS
    if request.endpoint not in STATIC_ENDPOINTS and _is_private(response):
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


def register(app):
    """Add the headers to every response of ``app`` (error pages and files included)."""
    app.after_request(add_security_headers)
