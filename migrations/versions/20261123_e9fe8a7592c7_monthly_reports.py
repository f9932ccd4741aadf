"""Add monthly reports with their revisions and reminders

Revision ID: e9fe8a7592c7
Revises: af712cb35034
Create Date: 2026-11-23 20:21:11.080511

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e9fe8a7592c7'
down_revision = 'af712cb35034'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monthly_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('month_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('revenue_fen', sa.BigInteger(), nullable=True),
    sa.Column('tax_fen', sa.BigInteger(), nullable=True),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('rd_spending_fen', sa.BigInteger(), nullable=True),
    sa.Column('new_ip', sa.Integer(), nullable=True),
    sa.Column('financing_fen', sa.BigInteger(), nullable=True),
    sa.Column('exports_fen', sa.BigInteger(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_submitted_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('on_behalf', sa.Boolean(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_monthly_reports_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_monthly_reports_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_monthly_reports_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_reports')),
    sa.UniqueConstraint('company_id', 'month_on', name=op.f('uq_monthly_reports_company_id_month_on'))
    )
    with op.batch_alter_table('monthly_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_reports_base_id'), ['base_id'], unique=False)
        batch_op.create_index('ix_monthly_reports_base_month', ['base_id', 'month_on'], unique=False)

    op.create_table('report_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('month_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('emailed_to', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_report_reminders_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_report_reminders_company_id_tenant_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_reminders')),
    sa.UniqueConstraint('company_id', 'month_on', 'kind', name=op.f('uq_report_reminders_company_id_month_on_kind'))
    )
    with op.batch_alter_table('report_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_reminders_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_reminders_company_id'), ['company_id'], unique=False)

    op.create_table('report_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('on_behalf', sa.Boolean(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_report_revisions_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['report_id'], ['monthly_reports.id'], name=op.f('fk_report_revisions_report_id_monthly_reports')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_report_revisions_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_revisions')),
    sa.UniqueConstraint('report_id', 'revision', name=op.f('uq_report_revisions_report_id_revision'))
    )
    with op.batch_alter_table('report_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_revisions_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_revisions_report_id'), ['report_id'], unique=False)



def downgrade():
    with op.batch_alter_table('report_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_revisions_report_id'))
        batch_op.drop_index(batch_op.f('ix_report_revisions_base_id'))

    op.drop_table('report_revisions')
    with op.batch_alter_table('report_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_reminders_company_id'))
        batch_op.drop_index(batch_op.f('ix_report_reminders_base_id'))

    op.drop_table('report_reminders')
    with op.batch_alter_table('monthly_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_monthly_reports_base_month')
        batch_op.drop_index(batch_op.f('ix_monthly_reports_base_id'))

    op.drop_table('monthly_reports')
