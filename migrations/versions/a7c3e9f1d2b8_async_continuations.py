"""asynchronous continuations: since when an instance's asynchronous task waits for the worker

Plain ALTER TABLE (no batch): SQLite adds and drops the column in place, whereas a batch would copy
workflow_instance, which the rows of waiting_lane and enrolment_request point to.

Revision ID: a7c3e9f1d2b8
Revises: a7c3e5f9d2b8
Create Date: 2026-12-01 15:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a7c3e9f1d2b8'
down_revision = 'a7c3e5f9d2b8'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('workflow_instance', sa.Column('async_due_at', sa.DateTime(), nullable=True))
    op.create_index('ix_workflow_instance_async_due_at', 'workflow_instance', ['async_due_at'])


def downgrade():
    op.drop_index('ix_workflow_instance_async_due_at', table_name='workflow_instance')
    op.drop_column('workflow_instance', 'async_due_at')
