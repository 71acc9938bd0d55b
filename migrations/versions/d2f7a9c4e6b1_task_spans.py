"""Task spans: when each user task became ready and when it left, for the « Pilotage » page (issue 15)

Revision ID: d2f7a9c4e6b1
Revises: a9c4e2f7d1b3
Create Date: 2026-12-01 20:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd2f7a9c4e6b1'
down_revision = 'a9c4e2f7d1b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'task_span',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('process_version_id', sa.Integer(), nullable=False),
        sa.Column('process', sa.String(length=100), nullable=False),
        sa.Column('element', sa.String(length=255), nullable=False),
        sa.Column('entered_at', sa.DateTime(), nullable=False),
        sa.Column('left_at', sa.DateTime(), nullable=True),
        sa.Column('entered_epoch', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['workflow_instance.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['process_version_id'], ['process_version.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_task_span_element_seconds', 'task_span',
                    ['process', 'element', 'seconds', 'left_at', 'process_version_id'],
                    postgresql_where=sa.text('seconds IS NOT NULL'), sqlite_where=sa.text('seconds IS NOT NULL'))
    op.create_index('ix_task_span_instance_task', 'task_span', ['instance_id', 'task_id'])


def downgrade():
    op.drop_index('ix_task_span_instance_task', table_name='task_span')
    op.drop_index('ix_task_span_element_seconds', table_name='task_span')
    op.drop_table('task_span')
