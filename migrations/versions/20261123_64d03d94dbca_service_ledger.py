"""Add the service ledger: team, partner agencies, requests, visits, activities with files and sign-ins, feedback

Revision ID: 64d03d94dbca
Revises: 5c7e2a91d0b4
Create Date: 2026-11-23 20:08:46.750156

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '64d03d94dbca'
down_revision = '5c7e2a91d0b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('service_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('position', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('is_mentor', sa.Boolean(), nullable=False),
    sa.Column('certificate_issuer', sa.String(length=120), nullable=False),
    sa.Column('certificate_number', sa.String(length=60), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_service_people_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_service_people_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_people'))
    )
    with op.batch_alter_table('service_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_people_base_id'), ['base_id'], unique=False)

    op.create_table('partner_agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('services', sa.Text(), nullable=False),
    sa.Column('agreement_starts_on', sa.Date(), nullable=False),
    sa.Column('agreement_ends_on', sa.Date(), nullable=True),
    sa.Column('contact_name', sa.String(length=60), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=False),
    sa.Column('agreement_file_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_file_id'], ['stored_files.id'], name=op.f('fk_partner_agencies_agreement_file_id_stored_files')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_partner_agencies_base_id_bases'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_agencies'))
    )
    with op.batch_alter_table('partner_agencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_agencies_base_id'), ['base_id'], unique=False)

    op.create_table('service_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handler_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('filed_by_tenant', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_service_requests_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_service_requests_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_service_requests_created_by_id_users')),
    sa.ForeignKeyConstraint(['handler_id'], ['service_people.id'], name=op.f('fk_service_requests_handler_id_service_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_requests'))
    )
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.create_index('ix_service_requests_base_day', ['base_id', 'occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_requests_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_requests_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_requests_handler_id'), ['handler_id'], unique=False)

    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('expected_companies', sa.Integer(), nullable=True),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('sheet_companies', sa.Integer(), nullable=True),
    sa.Column('sheet_people', sa.Integer(), nullable=True),
    sa.Column('publicity_links', sa.Text(), nullable=False),
    sa.Column('results', sa.Text(), nullable=False),
    sa.Column('signin_code', sa.String(length=32), nullable=False),
    sa.Column('signin_hours_after', sa.Integer(), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['partner_agencies.id'], name=op.f('fk_activities_agency_id_partner_agencies')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_activities_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_activities_created_by_id_users')),
    sa.ForeignKeyConstraint(['organiser_id'], ['service_people.id'], name=op.f('fk_activities_organiser_id_service_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities'))
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_activities_base_day', ['base_id', 'occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_organiser_id'), ['organiser_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('people', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('follow_up', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['partner_agencies.id'], name=op.f('fk_visits_agency_id_partner_agencies')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_visits_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_visits_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_visits_created_by_id_users')),
    sa.ForeignKeyConstraint(['staff_id'], ['service_people.id'], name=op.f('fk_visits_staff_id_service_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_visits_base_day', ['base_id', 'occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_staff_id'), ['staff_id'], unique=False)

    op.create_table('activity_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('thumbnail_id', sa.Integer(), nullable=True),
    sa.Column('captured_at', sa.DateTime(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_files_activity_id_activities')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_activity_files_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_activity_files_file_id_stored_files')),
    sa.ForeignKeyConstraint(['thumbnail_id'], ['stored_files.id'], name=op.f('fk_activity_files_thumbnail_id_stored_files')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_activity_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_files'))
    )
    with op.batch_alter_table('activity_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_files_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_files_base_id'), ['base_id'], unique=False)

    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('activity_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('(CASE WHEN request_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN visit_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN activity_id IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_feedback_one_entry')),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_feedback_rating_range')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_feedback_activity_id_activities')),
    sa.ForeignKeyConstraint(['agency_id'], ['partner_agencies.id'], name=op.f('fk_feedback_agency_id_partner_agencies')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_feedback_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_feedback_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_feedback_request_id_service_requests')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_feedback_user_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_feedback_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
    sa.UniqueConstraint('company_id', 'activity_id', name=op.f('uq_feedback_company_id_activity_id')),
    sa.UniqueConstraint('company_id', 'request_id', name=op.f('uq_feedback_company_id_request_id')),
    sa.UniqueConstraint('company_id', 'visit_id', name=op.f('uq_feedback_company_id_visit_id'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_agency', ['base_id', 'agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_company_id'), ['company_id'], unique=False)

    op.create_table('signins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('company_name', sa.String(length=120), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_signins_activity_id_activities')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_signins_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_signins_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_signins_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signins')),
    sa.UniqueConstraint('activity_id', 'phone', name=op.f('uq_signins_activity_id_phone'))
    )
    with op.batch_alter_table('signins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signins_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signins_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signins_company_id'), ['company_id'], unique=False)



def downgrade():
    with op.batch_alter_table('signins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signins_company_id'))
        batch_op.drop_index(batch_op.f('ix_signins_base_id'))
        batch_op.drop_index(batch_op.f('ix_signins_activity_id'))

    op.drop_table('signins')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_company_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_base_id'))
        batch_op.drop_index('ix_feedback_agency')

    op.drop_table('feedback')
    with op.batch_alter_table('activity_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_files_base_id'))
        batch_op.drop_index(batch_op.f('ix_activity_files_activity_id'))

    op.drop_table('activity_files')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_staff_id'))
        batch_op.drop_index(batch_op.f('ix_visits_company_id'))
        batch_op.drop_index(batch_op.f('ix_visits_base_id'))
        batch_op.drop_index('ix_visits_base_day')
        batch_op.drop_index(batch_op.f('ix_visits_agency_id'))

    op.drop_table('visits')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_organiser_id'))
        batch_op.drop_index(batch_op.f('ix_activities_base_id'))
        batch_op.drop_index('ix_activities_base_day')
        batch_op.drop_index(batch_op.f('ix_activities_agency_id'))

    op.drop_table('activities')
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_requests_handler_id'))
        batch_op.drop_index(batch_op.f('ix_service_requests_company_id'))
        batch_op.drop_index(batch_op.f('ix_service_requests_base_id'))
        batch_op.drop_index('ix_service_requests_base_day')

    op.drop_table('service_requests')
    with op.batch_alter_table('partner_agencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_agencies_base_id'))

    op.drop_table('partner_agencies')
    with op.batch_alter_table('service_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_people_base_id'))

    op.drop_table('service_people')
