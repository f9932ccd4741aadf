"""Billing: the operator's subscription and Stripe events, rent bills with lines, extra charges, payments,
credit notes, allocations, payment links, billing settings and the gap-free bill numbers.

Revision ID: a9e626e02c8e
Revises: c97d4f150a94
Create Date: 2026-11-24 00:09:09.017227

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9e626e02c8e'
down_revision = 'c97d4f150a94'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('operator_invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('stripe_invoice_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('amount_due', sa.BigInteger(), nullable=False),
    sa.Column('amount_paid', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hosted_invoice_url', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_operator_invoices_operator_id_operators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operator_invoices')),
    sa.UniqueConstraint('stripe_invoice_id', name=op.f('uq_operator_invoices_stripe_invoice_id'))
    )
    with op.batch_alter_table('operator_invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operator_invoices_operator_id'), ['operator_id'], unique=False)

    op.create_table('subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('stripe_customer_id', sa.String(length=64), nullable=True),
    sa.Column('stripe_subscription_id', sa.String(length=64), nullable=True),
    sa.Column('plan', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('current_period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False),
    sa.Column('past_due_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_subscriptions_operator_id_operators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions')),
    sa.UniqueConstraint('operator_id', name=op.f('uq_subscriptions_operator_id')),
    sa.UniqueConstraint('stripe_customer_id', name=op.f('uq_subscriptions_stripe_customer_id')),
    sa.UniqueConstraint('stripe_subscription_id', name=op.f('uq_subscriptions_stripe_subscription_id'))
    )
    op.create_table('billing_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoicing_enabled', sa.Boolean(), nullable=False),
    sa.Column('first_month', sa.Date(), nullable=True),
    sa.Column('due_days', sa.Integer(), nullable=False),
    sa.Column('number_prefix', sa.String(length=12), nullable=False),
    sa.Column('payee_name', sa.String(length=120), nullable=False),
    sa.Column('bank_name', sa.String(length=120), nullable=False),
    sa.Column('bank_account', sa.String(length=64), nullable=False),
    sa.Column('payment_notes', sa.Text(), nullable=False),
    sa.Column('stripe_account_id', sa.String(length=64), nullable=True),
    sa.Column('lock_version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_billing_settings_base_id_bases'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_settings')),
    sa.UniqueConstraint('base_id', name=op.f('uq_billing_settings_base_id')),
    sa.UniqueConstraint('stripe_account_id', name=op.f('uq_billing_settings_stripe_account_id'))
    )
    with op.batch_alter_table('billing_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_settings_base_id'), ['base_id'], unique=False)

    op.create_table('invoice_sequences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_invoice_sequences_base_id_bases'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_sequences')),
    sa.UniqueConstraint('base_id', 'kind', name=op.f('uq_invoice_sequences_base_id_kind'))
    )
    with op.batch_alter_table('invoice_sequences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_sequences_base_id'), ['base_id'], unique=False)

    op.create_table('stripe_events',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_stripe_events_base_id_bases')),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_stripe_events_operator_id_operators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events'))
    )
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stripe_events_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stripe_events_operator_id'), ['operator_id'], unique=False)

    op.create_table('rent_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_rent_payments_amount')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_rent_payments_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_rent_payments_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_rent_payments_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rent_payments'))
    )
    with op.batch_alter_table('rent_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rent_payments_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rent_payments_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rent_payments_received_on'), ['received_on'], unique=False)

    op.create_table('rent_invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('lease_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('total_fen >= 0', name=op.f('ck_rent_invoices_total')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_rent_invoices_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_rent_invoices_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_rent_invoices_issued_by_id_users')),
    sa.ForeignKeyConstraint(['lease_id'], ['leases.id'], name=op.f('fk_rent_invoices_lease_id_leases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rent_invoices')),
    sa.UniqueConstraint('base_id', 'number', name=op.f('uq_rent_invoices_base_id_number')),
    sa.UniqueConstraint('lease_id', 'period', name=op.f('uq_rent_invoices_lease_id_period'))
    )
    with op.batch_alter_table('rent_invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rent_invoices_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rent_invoices_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rent_invoices_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_rent_invoices_lease_id'), ['lease_id'], unique=False)

    op.create_table('credit_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_credit_notes_amount')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_credit_notes_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_credit_notes_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_credit_notes_created_by_id_users')),
    sa.ForeignKeyConstraint(['invoice_id'], ['rent_invoices.id'], name=op.f('fk_credit_notes_invoice_id_rent_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
    sa.UniqueConstraint('base_id', 'number', name=op.f('uq_credit_notes_base_id_number'))
    )
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_notes_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_notes_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_notes_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('extra_charges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lease_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_extra_charges_amount')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_extra_charges_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_extra_charges_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_extra_charges_created_by_id_users')),
    sa.ForeignKeyConstraint(['invoice_id'], ['rent_invoices.id'], name=op.f('fk_extra_charges_invoice_id_rent_invoices')),
    sa.ForeignKeyConstraint(['lease_id'], ['leases.id'], name=op.f('fk_extra_charges_lease_id_leases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extra_charges'))
    )
    with op.batch_alter_table('extra_charges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extra_charges_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_extra_charges_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_extra_charges_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_extra_charges_lease_id'), ['lease_id'], unique=False)

    op.create_table('invoice_payment_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('stripe_session_id', sa.String(length=255), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_invoice_payment_links_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_invoice_payment_links_created_by_id_users')),
    sa.ForeignKeyConstraint(['invoice_id'], ['rent_invoices.id'], name=op.f('fk_invoice_payment_links_invoice_id_rent_invoices')),
    sa.ForeignKeyConstraint(['payment_id'], ['rent_payments.id'], name=op.f('fk_invoice_payment_links_payment_id_rent_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_payment_links')),
    sa.UniqueConstraint('stripe_session_id', name=op.f('uq_invoice_payment_links_stripe_session_id'))
    )
    with op.batch_alter_table('invoice_payment_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_payment_links_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_payment_links_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('payment_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('credit_note_id', sa.Integer(), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('(payment_id IS NULL) <> (credit_note_id IS NULL)', name=op.f('ck_payment_allocations_source')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payment_allocations_amount')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_payment_allocations_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['credit_note_id'], ['credit_notes.id'], name=op.f('fk_payment_allocations_credit_note_id_credit_notes')),
    sa.ForeignKeyConstraint(['invoice_id'], ['rent_invoices.id'], name=op.f('fk_payment_allocations_invoice_id_rent_invoices')),
    sa.ForeignKeyConstraint(['payment_id'], ['rent_payments.id'], name=op.f('fk_payment_allocations_payment_id_rent_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_allocations'))
    )
    with op.batch_alter_table('payment_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_allocations_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_allocations_credit_note_id'), ['credit_note_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_allocations_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_allocations_payment_id'), ['payment_id'], unique=False)

    op.create_table('rent_invoice_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('extra_charge_id', sa.Integer(), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_rent_invoice_lines_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['extra_charge_id'], ['extra_charges.id'], name=op.f('fk_rent_invoice_lines_extra_charge_id_extra_charges')),
    sa.ForeignKeyConstraint(['invoice_id'], ['rent_invoices.id'], name=op.f('fk_rent_invoice_lines_invoice_id_rent_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rent_invoice_lines'))
    )
    with op.batch_alter_table('rent_invoice_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rent_invoice_lines_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rent_invoice_lines_invoice_id'), ['invoice_id'], unique=False)



def downgrade():
    with op.batch_alter_table('rent_invoice_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rent_invoice_lines_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_rent_invoice_lines_base_id'))

    op.drop_table('rent_invoice_lines')
    with op.batch_alter_table('payment_allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_allocations_payment_id'))
        batch_op.drop_index(batch_op.f('ix_payment_allocations_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_payment_allocations_credit_note_id'))
        batch_op.drop_index(batch_op.f('ix_payment_allocations_base_id'))

    op.drop_table('payment_allocations')
    with op.batch_alter_table('invoice_payment_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_payment_links_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_payment_links_base_id'))

    op.drop_table('invoice_payment_links')
    with op.batch_alter_table('extra_charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extra_charges_lease_id'))
        batch_op.drop_index(batch_op.f('ix_extra_charges_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_extra_charges_company_id'))
        batch_op.drop_index(batch_op.f('ix_extra_charges_base_id'))

    op.drop_table('extra_charges')
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_notes_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_credit_notes_company_id'))
        batch_op.drop_index(batch_op.f('ix_credit_notes_base_id'))

    op.drop_table('credit_notes')
    with op.batch_alter_table('rent_invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rent_invoices_lease_id'))
        batch_op.drop_index(batch_op.f('ix_rent_invoices_due_on'))
        batch_op.drop_index(batch_op.f('ix_rent_invoices_company_id'))
        batch_op.drop_index(batch_op.f('ix_rent_invoices_base_id'))

    op.drop_table('rent_invoices')
    with op.batch_alter_table('rent_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rent_payments_received_on'))
        batch_op.drop_index(batch_op.f('ix_rent_payments_company_id'))
        batch_op.drop_index(batch_op.f('ix_rent_payments_base_id'))

    op.drop_table('rent_payments')
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stripe_events_operator_id'))
        batch_op.drop_index(batch_op.f('ix_stripe_events_base_id'))

    op.drop_table('stripe_events')
    with op.batch_alter_table('invoice_sequences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_sequences_base_id'))

    op.drop_table('invoice_sequences')
    with op.batch_alter_table('billing_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_settings_base_id'))

    op.drop_table('billing_settings')
    op.drop_table('subscriptions')
    with op.batch_alter_table('operator_invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operator_invoices_operator_id'))

    op.drop_table('operator_invoices')
