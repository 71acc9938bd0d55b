"""documents: antivirus scan status, threat found and time of the last scan

Revision ID: a5c8e2f0d913
Revises: a5d8f3e1c902
Create Date: 2026-12-01 06:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a5c8e2f0d913'
down_revision = 'a5d8f3e1c902'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scan_status', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('scan_threat', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('scanned_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_document_scan_status'), ['scan_status'], unique=False)


def downgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_scan_status'))
        batch_op.drop_column('scanned_at')
        batch_op.drop_column('scan_threat')
        batch_op.drop_column('scan_status')
