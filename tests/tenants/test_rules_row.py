"""Every base has its rules row from the day it is made (tenants.rules.create_rules), and the migration that made
this so gave every older base one. Reading the rules never writes: on SQLite a page that created the row on first
use took the database's write lock on a GET."""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, event, func, select

from operator_app.accounts.models import Base
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from tenants import constants as c
from tenants.models import BaseRules
from tenants.rules import rules_of

from ..conftest import migrated_app
from ..helpers import Factory

BEFORE = "3b1f0c2d9e47"  # the revision before rules rows were made with the base


def rules_rows(base_id):
    with scoped_to(base_id):
        return db.session.scalars(select(BaseRules)).all()


def test_a_new_base_has_its_rules_with_the_defaults(app, factory):
    base = factory.base()
    with app.app_context():
        rows = rules_rows(base.id)
        assert len(rows) == 1
        rules = rows[0]
        assert (rules.allowed_industries, rules.required_documents, rules.is_published) == ([], [], False)
        assert rules.workstation_quota_percent == c.DEFAULT_WORKSTATION_QUOTA_PERCENT
        assert rules.discount_threshold_percent == c.DEFAULT_DISCOUNT_THRESHOLD_PERCENT


def test_reading_the_rules_runs_one_select_and_writes_nothing(app, factory, browser):
    base = factory.base()
    statements = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if "set_config(" not in statement:  # PostgreSQL's row-level security scope, once per transaction
            statements.append(statement.lstrip().split()[0].upper())

    with app.test_request_context(), scoped_to(base.id):
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            first = rules_of(db.session.get(Base, base.id))
            assert rules_of(None) is first  # read once per session and base
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        db.session.rollback()
    reads = [kind for kind in statements if kind == "SELECT"]
    writes = [kind for kind in statements if kind not in ("SELECT", "BEGIN")]
    assert len(reads) == 2 and writes == []  # the base, then the rules


@pytest.fixture
def own_app(databases):
    """An app on a database of its own: the test moves its migrations back and forth."""
    yield from migrated_app(databases.new())


def test_the_migration_gives_every_older_base_its_rules_and_keeps_saved_ones(own_app):
    built = Factory(own_app)
    bare, kept = built.base(), built.base()
    with own_app.app_context():
        with scoped_to(kept.id):
            rules_of(db.session.get(Base, kept.id)).allowed_industries = ["软件和信息技术服务业"]
        with unscoped("the test removes a rules row, as bases made before the migration had none"):
            db.session.execute(delete(BaseRules).where(BaseRules.base_id == bare.id))
        db.session.commit()
        db.session.remove()
        downgrade(revision=BEFORE)
        upgrade()
        db.session.remove()
        bare_rows, kept_rows = rules_rows(bare.id), rules_rows(kept.id)
        assert len(bare_rows) == 1 and len(kept_rows) == 1
        assert bare_rows[0].allowed_industries == [] and bare_rows[0].required_documents == []
        assert bare_rows[0].workstation_quota_percent == c.DEFAULT_WORKSTATION_QUOTA_PERCENT
        assert bare_rows[0].report_due_day == c.DEFAULT_REPORT_DUE_DAY
        assert kept_rows[0].allowed_industries == ["软件和信息技术服务业"]
        with unscoped("count every base's rules"):
            assert db.session.scalar(select(func.count(BaseRules.id))) == 2
