"""Add workstation people, check-in points and attendance

Revision ID: b241a098c1ae
Revises: b8f23a754d46
Create Date: 2026-11-23 18:43:17.757872

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b241a098c1ae'
down_revision = 'b8f23a754d46'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checkin_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_checkin_points_base_id_bases'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_points'))
    )
    with op.batch_alter_table('checkin_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_points_base_id'), ['base_id'], unique=False)

    op.create_table('workstation_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('pin_hash', sa.String(length=255), nullable=False),
    sa.Column('pin_version', sa.Integer(), nullable=False),
    sa.Column('active_from', sa.Date(), nullable=False),
    sa.Column('deactivated_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_workstation_people_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_workstation_people_company_id_tenant_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workstation_people'))
    )
    with op.batch_alter_table('workstation_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workstation_people_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workstation_people_company_id'), ['company_id'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('present_on', sa.Date(), nullable=False),
    sa.Column('is_present', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('point_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_attendance_base_id_bases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_id'], ['tenant_companies.id'], name=op.f('fk_attendance_company_id_tenant_companies')),
    sa.ForeignKeyConstraint(['person_id'], ['workstation_people.id'], name=op.f('fk_attendance_person_id_workstation_people')),
    sa.ForeignKeyConstraint(['point_id'], ['checkin_points.id'], name=op.f('fk_attendance_point_id_checkin_points')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_attendance_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('person_id', 'present_on', name=op.f('uq_attendance_person_id_present_on'))
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_base_id'), ['base_id'], unique=False)
        batch_op.create_index('ix_attendance_company_present_on', ['company_id', 'present_on'], unique=False)

    with op.batch_alter_table('base_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attendance_days', sa.Integer(), server_default='4', nullable=False))



def downgrade():
    with op.batch_alter_table('base_rules', schema=None) as batch_op:
        batch_op.drop_column('attendance_days')

    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index('ix_attendance_company_present_on')
        batch_op.drop_index(batch_op.f('ix_attendance_base_id'))

    op.drop_table('attendance')
    with op.batch_alter_table('workstation_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workstation_people_company_id'))
        batch_op.drop_index(batch_op.f('ix_workstation_people_base_id'))

    op.drop_table('workstation_people')
    with op.batch_alter_table('checkin_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_points_base_id'))

    op.drop_table('checkin_points')
