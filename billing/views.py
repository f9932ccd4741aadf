"""The ``billing`` blueprint of a base, at /b/<base>/billing: rent bills, extra charges, payments, credit notes,
arrears and the accountant's export. The routes live in ``invoice_views`` and ``payment_views``."""
from operator_app.scoping import base_blueprint

bp = base_blueprint("billing", __name__, "/billing")

from . import invoice_views, payment_views  # noqa: E402,F401  (their routes attach to bp)
