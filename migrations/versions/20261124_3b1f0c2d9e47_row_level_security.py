"""PostgreSQL row-level security on every base-owned table: the second wall behind the ORM's base criteria.

Each table gets RLS enabled and forced (the owner is bound too) and one policy, ``base_isolation``: a row is
visible and writable when its ``base_id`` is the transaction's ``app.base_id``, or when the transaction is
explicitly unscoped (``app.unscoped = 'on'``, set by ``operator_app.db.unscoped``). Both settings are
per-transaction (``set_config(..., true)``), so nothing outlives a transaction on a pooled connection, and
with neither set no row is visible. SQLite has no RLS: there the ORM hook is the one wall.

The table list is frozen here. A later migration that adds a base-owned table adds its policy the same way;
``tests/operator_app/test_rls.py`` reads ``pg_policies`` and fails for any base-owned table without one.

Revision ID: 3b1f0c2d9e47
Revises: a9e626e02c8e
Create Date: 2026-11-24 03:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3b1f0c2d9e47'
down_revision = 'a9e626e02c8e'
branch_labels = None
depends_on = None

BASE_OWNED_TABLES = (
    'activities', 'activity_files', 'admission_decisions', 'annual_summaries', 'attendance', 'base_rules',
    'billing_settings', 'checkin_points', 'company_documents', 'credit_notes', 'exit_records', 'extra_charges',
    'feedback', 'filing_attempts', 'filing_settings', 'graduate_followups', 'inspection_documents',
    'invitations', 'invoice_payment_links', 'invoice_sequences', 'job_runs', 'leases', 'market_quotes',
    'milestones', 'monthly_reports', 'partner_agencies', 'payment_allocations', 'preferential_policies',
    'quarterly_filings', 'rent_invoice_lines', 'rent_invoices', 'rent_payments', 'report_reminders',
    'report_revisions', 'service_people', 'service_requests', 'signins', 'stored_files', 'tenant_companies',
    'visits', 'workstation_people', 'zones',
)

RULE = ("current_setting('app.unscoped', true) = 'on' "
        "OR base_id = nullif(current_setting('app.base_id', true), '')::integer")


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in BASE_OWNED_TABLES:
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY base_isolation ON "{table}" USING ({RULE}) WITH CHECK ({RULE})')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in BASE_OWNED_TABLES:
        op.execute(f'DROP POLICY IF EXISTS base_isolation ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
