"""The operator's subscription page (/operator/billing) and the Stripe webhook (/billing/stripe/webhook)."""
from flask import Blueprint

subscription_bp = Blueprint("subscription", __name__, url_prefix="/operator/billing")
webhook_bp = Blueprint("stripe_webhook", __name__)
