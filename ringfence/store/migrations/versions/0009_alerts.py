"""Alerts: incidents, their alerts with the evidence, and the events of their life cycle.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

ROW_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("severity", sa.SmallInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("first_fired_ms", sa.BigInteger, nullable=False),
        sa.Column("last_fired_ms", sa.BigInteger, nullable=False),
        sa.Column("window_start_ms", sa.BigInteger, nullable=False),
        sa.Column("window_end_ms", sa.BigInteger, nullable=False),
        sa.Column("alert_count", sa.Integer, nullable=False),
        sa.Column("numbers_json", sa.Text, nullable=False),
        sa.Column("opened_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("acknowledged_ms", sa.BigInteger, nullable=True),
        sa.Column("acknowledged_by", sa.Integer, sa.ForeignKey("members.id"), nullable=True),
        sa.Column("ack_note", sa.Text, nullable=True),
        sa.Column("closed_ms", sa.BigInteger, nullable=True),
        sa.Column("closed_by", sa.Integer, sa.ForeignKey("members.id"), nullable=True),
        sa.Column("close_note", sa.Text, nullable=True),
        sa.Column("reports_json", sa.Text, nullable=True),
    )
    op.create_index("ix_incidents_grouping", "incidents", ["member_id", "rule", "subject", "status"])
    op.create_index("ix_incidents_member_id", "incidents", ["member_id", "id"])
    op.create_index("ix_incidents_status_id", "incidents", ["status", "id"])
    op.create_table(
        "alerts",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.BigInteger, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("window_start_ms", sa.BigInteger, nullable=False),
        sa.Column("window_end_ms", sa.BigInteger, nullable=False),
        sa.Column("fired_ms", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("severity", sa.SmallInteger, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("numbers_json", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("facts_json", sa.Text, nullable=False),
        sa.Column("evidence_json", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("recorded_ms", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("member_id", "rule", "subject", "window_start_ms", name="uq_alerts_key"),
    )
    op.create_index("ix_alerts_incident_id", "alerts", ["incident_id", "id"])
    op.create_table(
        "alert_events",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("incident_id", sa.BigInteger, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("alert_id", sa.BigInteger, nullable=True),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("members.id"), nullable=True),
        sa.Column("severity", sa.SmallInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("alert_count", sa.Integer, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=True),
    )
    op.create_index("ix_alert_events_member_id", "alert_events", ["member_id", "id"])
    # the alerts' write counter exists from the start, so every writer only ever updates (and row-locks) it
    op.execute("INSERT INTO feed_state (name, value) VALUES ('alerts_version', 0)")


def downgrade() -> None:
    op.execute("DELETE FROM feed_state WHERE name = 'alerts_version'")
    op.drop_index("ix_alert_events_member_id", "alert_events")
    op.drop_table("alert_events")
    op.drop_index("ix_alerts_incident_id", "alerts")
    op.drop_table("alerts")
    op.drop_index("ix_incidents_status_id", "incidents")
    op.drop_index("ix_incidents_member_id", "incidents")
    op.drop_index("ix_incidents_grouping", "incidents")
    op.drop_table("incidents")
