"""Give every base its rules row: from now on a base's rules row is made with the base (tenants.rules.create_rules)
instead of on first use, so reading the rules never writes. Bases made before have theirs made here, with the
same defaults the model gives.

Revision ID: 7d2e4c1b9a60
Revises: 3b1f0c2d9e47
Create Date: 2026-11-24 09:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7d2e4c1b9a60'
down_revision = '3b1f0c2d9e47'
branch_labels = None
depends_on = None

# tenants.constants at this revision: DEFAULT_WORKSTATION_QUOTA_PERCENT. The other settings have server defaults.
WORKSTATION_QUOTA_PERCENT = 20


def upgrade():
    op.execute(
        "INSERT INTO base_rules (base_id, entry_conditions, procedure, management_rules, exit_conditions, "
        "allowed_industries, required_documents, workstation_quota_percent, is_published, accepts_applications, "
        "updated_at) "
        f"SELECT bases.id, '', '', '', '', '[]', '[]', {WORKSTATION_QUOTA_PERCENT}, false, false, CURRENT_TIMESTAMP "
        "FROM bases WHERE NOT EXISTS (SELECT 1 FROM base_rules WHERE base_rules.base_id = bases.id)")


def downgrade():
    # The rows made here cannot be told from rows made on first use before; they stay (the old code reads them).
    pass
