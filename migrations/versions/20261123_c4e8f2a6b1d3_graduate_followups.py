"""Add graduate follow-ups

Revision ID: c4e8f2a6b1d3
Revises: e9fe8a7592c7
Create Date: 2026-11-23 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8f2a6b1d3'
down_revision = 'e9fe8a7592c7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('graduate_followups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('by_phone', sa.Boolean(), nullable=False),
    sa.Column('operating_status', sa.String(length=20), nullable=True),
    sa.Column('revenue_fen', sa.BigInteger(), nullable=True),
    sa.Column('tax_fen', sa.BigInteger(), nullable=True),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('milestones', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_graduate_followups_answered_by_id_users')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_graduate_followups_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_graduate_followups_company_id_tenant_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_graduate_followups')),
    sa.UniqueConstraint('company_id', 'due_on', name=op.f('uq_graduate_followups_company_id_due_on'))
    )
    with op.batch_alter_table('graduate_followups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_graduate_followups_base_id'), ['base_id'], unique=False)


def downgrade():
    with op.batch_alter_table('graduate_followups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_graduate_followups_base_id'))

    op.drop_table('graduate_followups')
