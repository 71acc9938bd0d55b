"""account_token: personal deposit links, bound to a request rather than to an account

Revision ID: d4e7b1a9c3f2
Revises: a5c8e2f0d913
Create Date: 2026-12-01 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd4e7b1a9c3f2'
down_revision = 'a5c8e2f0d913'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('request_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_account_token_request_id'), ['request_id'], unique=False)
        batch_op.create_foreign_key('fk_account_token_request_id', 'enrolment_request', ['request_id'], ['id'],
                                    ondelete='CASCADE')


def downgrade():
    op.execute("DELETE FROM account_token WHERE user_id IS NULL")
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.drop_constraint('fk_account_token_request_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_account_token_request_id'))
        batch_op.drop_column('request_id')
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
