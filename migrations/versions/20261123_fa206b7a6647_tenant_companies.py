"""Add tenant companies, milestones, documents, admission and exit records, base rules, stored files

Revision ID: fa206b7a6647
Revises: a95bbd3eaeeb
Create Date: 2026-11-23 18:06:14.492762

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fa206b7a6647'
down_revision = 'a95bbd3eaeeb'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('base_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_conditions', sa.Text(), nullable=False),
    sa.Column('procedure', sa.Text(), nullable=False),
    sa.Column('management_rules', sa.Text(), nullable=False),
    sa.Column('exit_conditions', sa.Text(), nullable=False),
    sa.Column('allowed_industries', sa.JSON(), nullable=False),
    sa.Column('required_documents', sa.JSON(), nullable=False),
    sa.Column('workstation_quota_percent', sa.Integer(), nullable=False),
    sa.Column('is_published', sa.Boolean(), nullable=False),
    sa.Column('accepts_applications', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_base_rules_base_id_bases'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_base_rules')),
    sa.UniqueConstraint('base_id', name=op.f('uq_base_rules_base_id'))
    )
    with op.batch_alter_table('base_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_base_rules_base_id'), ['base_id'], unique=False)

    op.create_table('stored_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_stored_files_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_stored_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_files')),
    sa.UniqueConstraint('key', name=op.f('uq_stored_files_key'))
    )
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_files_base_id'), ['base_id'], unique=False)

    op.create_table('tenant_companies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('is_team', sa.Boolean(), nullable=False),
    sa.Column('team_evidence', sa.Text(), nullable=False),
    sa.Column('legal_representative', sa.String(length=60), nullable=False),
    sa.Column('contact_name', sa.String(length=60), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('main_business', sa.Text(), nullable=False),
    sa.Column('industry', sa.String(length=2), nullable=False),
    sa.Column('zone', sa.String(length=20), nullable=True),
    sa.Column('unit', sa.String(length=120), nullable=False),
    sa.Column('is_workstation', sa.Boolean(), nullable=False),
    sa.Column('workstation_count', sa.Integer(), nullable=True),
    sa.Column('area_m2', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('moved_in_on', sa.Date(), nullable=True),
    sa.Column('moved_out_on', sa.Date(), nullable=True),
    sa.Column('licence_in_base', sa.Boolean(), nullable=False),
    sa.Column('staff_on_site', sa.Boolean(), nullable=False),
    sa.Column('equipment_on_site', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('applied_via_link', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_tenant_companies_base_id_bases'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_companies'))
    )
    with op.batch_alter_table('tenant_companies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenant_companies_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tenant_companies_status'), ['status'], unique=False)
    # A code is unique among the companies a base admits or houses (a company may leave and come back).
    active = sa.text("status IN ('admitted', 'in_residence')")
    op.create_index('uq_tenant_companies_active_uscc', 'tenant_companies', ['base_id', 'uscc'], unique=True,
                    sqlite_where=active, postgresql_where=active)

    op.create_table('admission_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_admission_decisions_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_admission_decisions_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_admission_decisions_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admission_decisions'))
    )
    with op.batch_alter_table('admission_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admission_decisions_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_admission_decisions_company_id'), ['company_id'], unique=False)

    op.create_table('company_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_company_documents_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_company_documents_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_company_documents_file_id_stored_files')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_company_documents_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_documents'))
    )
    with op.batch_alter_table('company_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_company_documents_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_company_documents_company_id'), ['company_id'], unique=False)

    op.create_table('exit_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('exit_on', sa.Date(), nullable=False),
    sa.Column('keys_returned', sa.Boolean(), nullable=False),
    sa.Column('rent_settled', sa.Boolean(), nullable=False),
    sa.Column('deposit_settled', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_exit_records_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_exit_records_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_exit_records_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exit_records'))
    )
    with op.batch_alter_table('exit_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exit_records_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exit_records_company_id'), ['company_id'], unique=False)

    op.create_table('milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_milestones_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_milestones_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_milestones_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestones'))
    )
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestones_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestones_company_id'), ['company_id'], unique=False)

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant_company_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_invitations_tenant_company_id_tenant_companies'), 'tenant_companies', ['tenant_company_id'], ['id'])

    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant_company_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_memberships_tenant_company_id'), ['tenant_company_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_memberships_tenant_company_id_tenant_companies'), 'tenant_companies', ['tenant_company_id'], ['id'])



def downgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_memberships_tenant_company_id_tenant_companies'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_memberships_tenant_company_id'))
        batch_op.drop_column('tenant_company_id')

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invitations_tenant_company_id_tenant_companies'), type_='foreignkey')
        batch_op.drop_column('tenant_company_id')

    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestones_company_id'))
        batch_op.drop_index(batch_op.f('ix_milestones_base_id'))

    op.drop_table('milestones')
    with op.batch_alter_table('exit_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exit_records_company_id'))
        batch_op.drop_index(batch_op.f('ix_exit_records_base_id'))

    op.drop_table('exit_records')
    with op.batch_alter_table('company_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_company_documents_company_id'))
        batch_op.drop_index(batch_op.f('ix_company_documents_base_id'))

    op.drop_table('company_documents')
    with op.batch_alter_table('admission_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admission_decisions_company_id'))
        batch_op.drop_index(batch_op.f('ix_admission_decisions_base_id'))

    op.drop_table('admission_decisions')
    op.drop_index('uq_tenant_companies_active_uscc', table_name='tenant_companies')
    with op.batch_alter_table('tenant_companies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenant_companies_status'))
        batch_op.drop_index(batch_op.f('ix_tenant_companies_base_id'))

    op.drop_table('tenant_companies')
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_files_base_id'))

    op.drop_table('stored_files')
    with op.batch_alter_table('base_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_base_rules_base_id'))

    op.drop_table('base_rules')
