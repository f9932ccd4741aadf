"""Add quarterly filings, their attempts and settings, annual summaries and inspection documents

Revision ID: 8a759376b5c5
Revises: c4e8f2a6b1d3
Create Date: 2026-11-23 21:54:48.143349

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8a759376b5c5'
down_revision = 'c4e8f2a6b1d3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('annual_summaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('sections', sa.JSON(), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_annual_summaries_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_annual_summaries_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_summaries')),
    sa.UniqueConstraint('base_id', 'year', name=op.f('uq_annual_summaries_base_id_year'))
    )
    with op.batch_alter_table('annual_summaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annual_summaries_base_id'), ['base_id'], unique=False)

    op.create_table('filing_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deadline_days', sa.Integer(), nullable=False),
    sa.Column('deadline_in_working_days', sa.Boolean(), nullable=False),
    sa.Column('endpoint_url', sa.String(length=500), nullable=False),
    sa.Column('endpoint_token', sa.String(length=500), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_filing_settings_base_id_bases'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_filing_settings')),
    sa.UniqueConstraint('base_id', name=op.f('uq_filing_settings_base_id'))
    )
    with op.batch_alter_table('filing_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_filing_settings_base_id'), ['base_id'], unique=False)

    op.create_table('inspection_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('dated_on', sa.Date(), nullable=True),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_inspection_documents_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_inspection_documents_file_id_stored_files')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_inspection_documents_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_documents'))
    )
    with op.batch_alter_table('inspection_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_documents_base_id'), ['base_id'], unique=False)

    op.create_table('quarterly_filings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('deadline_on', sa.Date(), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('generated_by_id', sa.Integer(), nullable=True),
    sa.Column('xlsx_file_id', sa.Integer(), nullable=True),
    sa.Column('csv_file_id', sa.Integer(), nullable=True),
    sa.Column('json_file_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_via', sa.String(length=16), nullable=True),
    sa.Column('submission_note', sa.Text(), nullable=False),
    sa.Column('lock_version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_quarterly_filings_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['csv_file_id'], ['stored_files.id'], name=op.f('fk_quarterly_filings_csv_file_id_stored_files')),
    sa.ForeignKeyConstraint(['generated_by_id'], ['users.id'], name=op.f('fk_quarterly_filings_generated_by_id_users')),
    sa.ForeignKeyConstraint(['json_file_id'], ['stored_files.id'], name=op.f('fk_quarterly_filings_json_file_id_stored_files')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_quarterly_filings_submitted_by_id_users')),
    sa.ForeignKeyConstraint(['xlsx_file_id'], ['stored_files.id'], name=op.f('fk_quarterly_filings_xlsx_file_id_stored_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarterly_filings')),
    sa.UniqueConstraint('base_id', 'year', 'quarter', 'version', name=op.f('uq_quarterly_filings_base_id_year_quarter_version'))
    )
    with op.batch_alter_table('quarterly_filings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarterly_filings_base_id'), ['base_id'], unique=False)

    op.create_table('filing_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filing_id', sa.Integer(), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_filing_attempts_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_filing_attempts_by_id_users')),
    sa.ForeignKeyConstraint(['filing_id'], ['quarterly_filings.id'], name=op.f('fk_filing_attempts_filing_id_quarterly_filings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_filing_attempts'))
    )
    with op.batch_alter_table('filing_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_filing_attempts_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_filing_attempts_filing_id'), ['filing_id'], unique=False)



def downgrade():
    with op.batch_alter_table('filing_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_filing_attempts_filing_id'))
        batch_op.drop_index(batch_op.f('ix_filing_attempts_base_id'))

    op.drop_table('filing_attempts')
    with op.batch_alter_table('quarterly_filings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarterly_filings_base_id'))

    op.drop_table('quarterly_filings')
    with op.batch_alter_table('inspection_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_documents_base_id'))

    op.drop_table('inspection_documents')
    with op.batch_alter_table('filing_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_filing_settings_base_id'))

    op.drop_table('filing_settings')
    with op.batch_alter_table('annual_summaries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annual_summaries_base_id'))

    op.drop_table('annual_summaries')
