"""The one place the Stripe library is configured. Billing is on only with a secret key (the embedded default
has none: billing is off and everything is available)."""
import stripe
from flask import current_app


def enabled(app=None):
    """True when this installation bills through Stripe (STRIPE_SECRET_KEY set)."""
    return bool((app or current_app).config.get("STRIPE_SECRET_KEY"))


def api(app=None):
    """The ``stripe`` module set up from the configuration (key, API base for localstripe, network retries)."""
    config = (app or current_app).config
    stripe.api_key = config["STRIPE_SECRET_KEY"]
    stripe.api_base = config.get("STRIPE_API_BASE") or "https://api.stripe.com"
    stripe.max_network_retries = 2
    return stripe
