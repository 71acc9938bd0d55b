"""A partial index of the history's status changes, which « Pilotage » counts per week (issue 15)

Revision ID: e8b3d1f6a4c9
Revises: d2f7a9c4e6b1
Create Date: 2026-12-01 22:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e8b3d1f6a4c9'
down_revision = 'd2f7a9c4e6b1'
branch_labels = None
depends_on = None

STATUS_LINES = sa.text("action LIKE 'Statut : %'")
OPEN_SPANS = sa.text('left_at IS NULL')


def upgrade():
    op.create_index('ix_request_event_status_at', 'request_event', ['at', 'action', 'request_id'],
                    postgresql_where=STATUS_LINES, sqlite_where=STATUS_LINES)
    op.create_index('ix_task_span_open', 'task_span', ['process', 'element', 'process_version_id'],
                    postgresql_where=OPEN_SPANS, sqlite_where=OPEN_SPANS)


def downgrade():
    op.drop_index('ix_task_span_open', table_name='task_span')
    op.drop_index('ix_request_event_status_at', table_name='request_event')
