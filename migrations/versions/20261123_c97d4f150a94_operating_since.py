"""Add the day a base began operating formally (正式运营) to its profile

Revision ID: c97d4f150a94
Revises: 8a759376b5c5
Create Date: 2026-11-23 22:40:39.791025

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c97d4f150a94'
down_revision = '8a759376b5c5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operating_since_on', sa.Date(), nullable=True))



def downgrade():
    with op.batch_alter_table('bases', schema=None) as batch_op:
        batch_op.drop_column('operating_since_on')

