"""enrolment rules: first validation date, dépositaire access

Revision ID: c41d7e2a9b10
Revises: 985c1480c0e4
Create Date: 2026-11-28 23:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c41d7e2a9b10'
down_revision = '985c1480c0e4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrolment_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('validated_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('supplier_access', schema=None) as batch_op:
        batch_op.add_column(sa.Column('depositary', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Requests validated before this revision: their last status change is the best date known.
    op.execute("UPDATE enrolment_request SET validated_at = status_changed_at WHERE status IN "
               "('Validée', 'Validation partielle - En attente de certificat(s)', 'Certificat(s) à valider')")


def downgrade():
    with op.batch_alter_table('supplier_access', schema=None) as batch_op:
        batch_op.drop_column('depositary')
    with op.batch_alter_table('enrolment_request', schema=None) as batch_op:
        batch_op.drop_column('validated_at')
