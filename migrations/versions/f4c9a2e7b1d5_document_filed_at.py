"""When each document was filed: the documents of a type filed together are one version (issue 15)

Revision ID: f4c9a2e7b1d5
Revises: e8b3d1f6a4c9
Create Date: 2026-12-01 22:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'f4c9a2e7b1d5'
down_revision = 'e8b3d1f6a4c9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('document') as batch:
        batch.add_column(sa.Column('filed_at', sa.DateTime(), nullable=True))
    # Documents filed before: each is taken as filed when it was uploaded (its own version, as
    # they were shown until now).
    op.execute("UPDATE document SET filed_at = uploaded_at WHERE state = 'filed'")


def downgrade():
    with op.batch_alter_table('document') as batch:
        batch.drop_column('filed_at')
