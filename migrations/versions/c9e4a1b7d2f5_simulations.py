"""simulations of the draft process package (« Simuler »): their own state, outside the real tables

Revision ID: c9e4a1b7d2f5
Revises: c8e2a4f6b9d1
Create Date: 2026-12-01 13:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c9e4a1b7d2f5'
down_revision = 'c8e2a4f6b9d1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'simulation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('process_id', sa.String(length=100), nullable=False),
        sa.Column('author', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('sources_json', sa.Text(), nullable=False),
        sa.Column('data_json', sa.Text(), nullable=False),
        sa.Column('sample_json', sa.Text(), nullable=False),
        sa.Column('state_json', sa.Text(), nullable=True),
        sa.Column('request_json', sa.Text(), nullable=False),
        sa.Column('clock_at', sa.DateTime(), nullable=False),
        sa.Column('log_json', sa.Text(), nullable=False),
        sa.Column('actions_json', sa.Text(), nullable=False),
        sa.Column('position_json', sa.Text(), nullable=False),
        sa.Column('completed', sa.Boolean(), nullable=False),
        sa.Column('scenario', sa.String(length=200), nullable=True),
        sa.Column('lock_version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_simulation_process_id', 'simulation', ['process_id'])
    op.create_index('ix_simulation_scenario', 'simulation', ['scenario'])


def downgrade():
    op.drop_index('ix_simulation_scenario', table_name='simulation')
    op.drop_index('ix_simulation_process_id', table_name='simulation')
    op.drop_table('simulation')
