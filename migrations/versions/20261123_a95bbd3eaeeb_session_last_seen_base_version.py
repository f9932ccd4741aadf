"""Add session last seen and base profile version

Revision ID: a95bbd3eaeeb
Revises: 56bd5efbcc8d
Create Date: 2026-11-23 17:56:11.216870

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a95bbd3eaeeb'
down_revision = '56bd5efbcc8d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False))



def downgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')

    with op.batch_alter_table('bases', schema=None) as batch_op:
        batch_op.drop_column('version')

