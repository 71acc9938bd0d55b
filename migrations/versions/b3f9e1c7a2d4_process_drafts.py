"""process drafts (the analysts' studio)

Revision ID: b3f9e1c7a2d4
Revises: c41d7e2a9b10
Create Date: 2026-11-29 00:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b3f9e1c7a2d4'
down_revision = 'c41d7e2a9b10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('process_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('xml', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('file_name')
    )


def downgrade():
    op.drop_table('process_draft')
