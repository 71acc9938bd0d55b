"""process_package: the diagrams and the data they name, versioned together; package drafts

Revision ID: f1a2b3c4d5e6
Revises: d4e7b1a9c3f2
Create Date: 2026-12-01 10:00:00

Existing process versions and instances are left without a package: the first deployment after
the upgrade (the portal command, ``flask bpmn deploy``) creates package version 1 from the
repository's files, and an instance without a package reads the current one.
"""
from alembic import op
import sqlalchemy as sa


revision = 'f1a2b3c4d5e6'
down_revision = 'd4e7b1a9c3f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'process_package',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('data_json', sa.Text(), nullable=False),
        sa.Column('sources_json', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('author', sa.String(length=200), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('is_current', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('version'),
    )
    op.create_index('ix_process_package_is_current', 'process_package', ['is_current'])
    op.create_table(
        'package_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('section', sa.String(length=60), nullable=False),
        sa.Column('content_json', sa.Text(), nullable=False),
        sa.Column('author', sa.String(length=200), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('section'),
    )
    for table in ('process_version', 'workflow_instance'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('package_id', sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_package_id'), ['package_id'], unique=False)
            batch_op.create_foreign_key(f'fk_{table}_package_id', 'process_package', ['package_id'], ['id'])


def downgrade():
    for table in ('workflow_instance', 'process_version'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_package_id', type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_package_id'))
            batch_op.drop_column('package_id')
    op.drop_table('package_draft')
    op.drop_index('ix_process_package_is_current', table_name='process_package')
    op.drop_table('process_package')
