"""Add market quotes, preferential policies, leases and rent settings

Revision ID: fc13648f0171
Revises: fa206b7a6647
Create Date: 2026-11-23 18:29:19.072286

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fc13648f0171'
down_revision = 'fa206b7a6647'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('leases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('space_type', sa.String(length=20), nullable=False),
    sa.Column('units', sa.String(length=200), nullable=False),
    sa.Column('area_m2', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('seats', sa.Integer(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('list_rent_fen', sa.BigInteger(), nullable=False),
    sa.Column('actual_rent_fen', sa.BigInteger(), nullable=False),
    sa.Column('free_months', sa.Integer(), nullable=False),
    sa.Column('discounted_months', sa.Integer(), nullable=False),
    sa.Column('discounted_rent_fen', sa.BigInteger(), nullable=True),
    sa.Column('deposit_fen', sa.BigInteger(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_leases_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_leases_company_id_tenant_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leases'))
    )
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leases_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leases_company_id'), ['company_id'], unique=False)

    op.create_table('market_quotes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quoted_on', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('source_name', sa.String(length=120), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('space_type', sa.String(length=20), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_market_quotes_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_market_quotes_created_by_id_users')),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_market_quotes_file_id_stored_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_quotes'))
    )
    with op.batch_alter_table('market_quotes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_market_quotes_base_id'), ['base_id'], unique=False)

    op.create_table('preferential_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('document_number', sa.String(length=100), nullable=False),
    sa.Column('issuing_unit', sa.String(length=120), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('is_posted', sa.Boolean(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_preferential_policies_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_preferential_policies_file_id_stored_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preferential_policies'))
    )
    with op.batch_alter_table('preferential_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preferential_policies_base_id'), ['base_id'], unique=False)

    with op.batch_alter_table('base_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_threshold_percent', sa.Integer(), server_default='20', nullable=False))
        batch_op.add_column(sa.Column('quote_max_age_months', sa.Integer(), server_default='12', nullable=False))
        batch_op.add_column(sa.Column('free_rent_warning_months', sa.Integer(), server_default='6', nullable=False))



def downgrade():
    with op.batch_alter_table('base_rules', schema=None) as batch_op:
        batch_op.drop_column('free_rent_warning_months')
        batch_op.drop_column('quote_max_age_months')
        batch_op.drop_column('discount_threshold_percent')

    with op.batch_alter_table('preferential_policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preferential_policies_base_id'))

    op.drop_table('preferential_policies')
    with op.batch_alter_table('market_quotes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_market_quotes_base_id'))

    op.drop_table('market_quotes')
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leases_company_id'))
        batch_op.drop_index(batch_op.f('ix_leases_base_id'))

    op.drop_table('leases')
