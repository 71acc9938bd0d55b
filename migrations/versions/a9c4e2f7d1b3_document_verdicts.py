"""document verdicts: the review grid's « conforme » / « non conforme » per document (issue 15)

Revision ID: a9c4e2f7d1b3
Revises: b5d8f2a6c3e1
Create Date: 2026-12-01 20:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a9c4e2f7d1b3'
down_revision = 'b5d8f2a6c3e1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'document_verdict',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('verdict', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('reason_code', sa.String(length=30), nullable=True),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['document.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['agent_id'], ['user_account.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('document_verdict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_verdict_document_id'), ['document_id'], unique=False)


def downgrade():
    with op.batch_alter_table('document_verdict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_verdict_document_id'))
    op.drop_table('document_verdict')
