"""Smart logic: listing weight and flags (also carried by the change feed), member reputation, the audit log.

Revision ID: 0005
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

ROW_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # weight: the distinct reporters' reputations in thousandths; a listing made before counted 1000 per reporter
    with op.batch_alter_table("listings") as batch:
        batch.add_column(sa.Column("weight", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("flags", sa.Integer, nullable=False, server_default="0"))
    op.execute("UPDATE listings SET weight = reporter_count * 1000")
    with op.batch_alter_table("changes") as batch:
        batch.add_column(sa.Column("weight", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("flags", sa.Integer, nullable=False, server_default="0"))
    op.execute("UPDATE changes SET weight = reporter_count * 1000 WHERE listed = 1")
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("reputation", sa.Integer, nullable=False, server_default="1000"))
    op.create_table(
        "audit",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("members.id"), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("number", sa.BigInteger, nullable=True),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("before_json", sa.Text, nullable=True),
        sa.Column("after_json", sa.Text, nullable=True),
    )
    op.create_index("ix_audit_number", "audit", ["number", "id"])
    op.create_index("ix_audit_action", "audit", ["action", "id"])


def downgrade() -> None:
    op.drop_table("audit")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("reputation")
    for table in ("changes", "listings"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("flags")
            batch.drop_column("weight")
