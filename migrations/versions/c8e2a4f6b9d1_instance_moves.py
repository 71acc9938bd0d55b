"""instance moves: running requests moved to another version of their process, undoable

Revision ID: c8e2a4f6b9d1
Revises: a7c4e2f9b1d3
Create Date: 2026-12-01 13:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c8e2a4f6b9d1'
down_revision = 'a7c4e2f9b1d3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'instance_move',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('from_version_id', sa.Integer(), nullable=False),
        sa.Column('to_version_id', sa.Integer(), nullable=False),
        sa.Column('from_package_id', sa.Integer(), nullable=True),
        sa.Column('to_package_id', sa.Integer(), nullable=True),
        sa.Column('state_before', sa.Text(), nullable=False),
        sa.Column('next_timer_before', sa.DateTime(), nullable=True),
        sa.Column('lock_version_after', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('undone_at', sa.DateTime(), nullable=True),
        sa.Column('undone_by', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['workflow_instance.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['request_id'], ['enrolment_request.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['from_version_id'], ['process_version.id']),
        sa.ForeignKeyConstraint(['to_version_id'], ['process_version.id']),
        sa.ForeignKeyConstraint(['from_package_id'], ['process_package.id']),
        sa.ForeignKeyConstraint(['to_package_id'], ['process_package.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_instance_move_instance_id', 'instance_move', ['instance_id'])
    op.create_index('ix_instance_move_request_id', 'instance_move', ['request_id'])


def downgrade():
    op.drop_index('ix_instance_move_request_id', table_name='instance_move')
    op.drop_index('ix_instance_move_instance_id', table_name='instance_move')
    op.drop_table('instance_move')
