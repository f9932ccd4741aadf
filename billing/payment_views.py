"""Views of money received: payments, credit notes, the arrears list, the export, Stripe payment links."""
from .views import bp  # noqa: F401
