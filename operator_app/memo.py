"""Work that several parts of one page need, done once: the dashboard's panels and its inspection-readiness
items both check the rent, count the occupancy and list the overdue activities.

``once(function, *args)`` keeps ``function(*args)`` for the rest of the session's current transaction and
base scope: a commit or rollback (a new transaction) or another base starts afresh, so a result never outlives
the data it was read from. Only for reads: a caller that writes what ``function`` reads, in the same
transaction, calls ``function`` itself.
"""
from .db import current_base_id
from .extensions import db

_KEY = "memo"  # in the session's info: (the transaction, {key: result})


def once(function, *args):
    """``function(*args)``, computed once per transaction and base."""
    key = (function, current_base_id(), args)
    kept = db.session.info.get(_KEY)
    transaction = db.session().get_transaction()
    if kept is not None and transaction is not None and kept[0] is transaction and key in kept[1]:
        return kept[1][key]
    result = function(*args)
    transaction = db.session().get_transaction()  # the call may have begun it
    if transaction is not None:
        if kept is None or kept[0] is not transaction:
            kept = (transaction, {})
            db.session.info[_KEY] = kept
        kept[1][key] = result
    return result
