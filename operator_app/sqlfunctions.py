"""SQL functions the two databases spell differently, written once for queries that aggregate by month."""
from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction


class month_end(GenericFunction):  # noqa: N801 (an SQL function, named as SQL names them)
    """The last day of the month of a date column or value: ``month_end(MonthlyReport.month_on)``."""

    type = Date()
    inherit_cache = True


@compiles(month_end, "sqlite")
def _month_end_sqlite(element, compiler, **kw):
    return "date(%s, 'start of month', '+1 month', '-1 day')" % compiler.process(element.clauses, **kw)


@compiles(month_end, "postgresql")
def _month_end_postgresql(element, compiler, **kw):
    return "CAST(date_trunc('month', %s) + interval '1 month' - interval '1 day' AS date)" % compiler.process(
        element.clauses, **kw)
