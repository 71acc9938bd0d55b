"""mail never lost: stable Message-ID and « Renvoyer » on outbox rows; forgotten requests queued

Revision ID: a5d8f3e1c902
Revises: e7a3c9d2b4f1
Create Date: 2026-12-01 06:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a5d8f3e1c902'
down_revision = 'e7a3c9d2b4f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('resent_at', sa.DateTime(), nullable=True))
    op.create_table('forgotten_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('value', sa.String(length=254), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade():
    op.drop_table('forgotten_request')
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_column('resent_at')
        batch_op.drop_column('message_id')
