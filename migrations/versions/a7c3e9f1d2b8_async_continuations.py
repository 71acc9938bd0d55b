"""asynchronous continuations: since when an instance's asynchronous task waits for the worker

Revision ID: a7c3e9f1d2b8
Revises: b5d9e3a7c1f4
Create Date: 2026-12-01 15:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a7c3e9f1d2b8'
down_revision = 'b5d9e3a7c1f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workflow_instance') as batch_op:
        batch_op.add_column(sa.Column('async_due_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_workflow_instance_async_due_at', ['async_due_at'])


def downgrade():
    with op.batch_alter_table('workflow_instance') as batch_op:
        batch_op.drop_index('ix_workflow_instance_async_due_at')
        batch_op.drop_column('async_due_at')
