"""passed elements and past milestones: what a request's workflow went through, kept when its
finished tasks are compacted away (issue 14, P2)

Revision ID: a7c3e5f9d2b8
Revises: b5d9e3a7c1f4
Create Date: 2026-12-01 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a7c3e5f9d2b8'
down_revision = 'b5d9e3a7c1f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('passed_element',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('process', sa.String(length=100), nullable=False),
    sa.Column('element', sa.String(length=255), nullable=False),
    sa.Column('previous', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['workflow_instance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', 'process', 'element', 'previous')
    )
    op.create_table('past_milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('process', sa.String(length=100), nullable=False),
    sa.Column('element', sa.String(length=255), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['workflow_instance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('past_milestone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_past_milestone_instance_id'), ['instance_id'], unique=False)


def downgrade():
    with op.batch_alter_table('past_milestone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_past_milestone_instance_id'))
    op.drop_table('past_milestone')
    op.drop_table('passed_element')
