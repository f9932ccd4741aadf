"""Add the monthly report and graduate follow-up settings to the base rules

Revision ID: af712cb35034
Revises: 64d03d94dbca
Create Date: 2026-11-23 20:17:38.240396

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'af712cb35034'
down_revision = '64d03d94dbca'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('base_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_due_day', sa.Integer(), server_default='10', nullable=False))
        batch_op.add_column(sa.Column('report_optional_fields', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('report_change_factor', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('followup_interval_months', sa.Integer(), server_default='6', nullable=False))
        batch_op.add_column(sa.Column('followup_years', sa.Integer(), server_default='3', nullable=False))



def downgrade():
    with op.batch_alter_table('base_rules', schema=None) as batch_op:
        batch_op.drop_column('followup_years')
        batch_op.drop_column('followup_interval_months')
        batch_op.drop_column('report_change_factor')
        batch_op.drop_column('report_optional_fields')
        batch_op.drop_column('report_due_day')

