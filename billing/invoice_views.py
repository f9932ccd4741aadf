"""Views of rent bills: the list, a bill, its printable page, extra charges, billing settings, the tenant's bills."""
from .views import bp  # noqa: F401
