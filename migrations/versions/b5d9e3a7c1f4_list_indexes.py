"""list indexes: each filter of the request lists followed by the default sort, and the search
by the beginning of the ANS number in any case (issue 14, P3)

The single-column indexes on status, enrolment_type, siret and dsr give way to composite ones that
serve the same look-ups and the lists' order (newest first) at once.

Revision ID: b5d9e3a7c1f4
Revises: c9e4a1b7d2f5
Create Date: 2026-12-01 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b5d9e3a7c1f4'
down_revision = 'c9e4a1b7d2f5'
branch_labels = None
depends_on = None

REPLACED = ("status", "enrolment_type", "siret", "dsr")


def upgrade():
    for column in REPLACED:
        op.drop_index(f'ix_enrolment_request_{column}', table_name='enrolment_request')
    op.create_index('ix_enrolment_request_status_submitted_at', 'enrolment_request', ['status', 'submitted_at'])
    op.create_index('ix_enrolment_request_status_sequence', 'enrolment_request', ['status', 'sequence'])
    op.create_index('ix_enrolment_request_type_submitted_at', 'enrolment_request', ['enrolment_type', 'submitted_at'])
    op.create_index('ix_enrolment_request_siret_submitted_at', 'enrolment_request', ['siret', 'submitted_at'])
    op.create_index('ix_enrolment_request_lower_ans_number', 'enrolment_request', [sa.text('lower(ans_number)')])
    op.create_index('ix_enrolment_request_dsr_submitted_at', 'enrolment_request', ['dsr', 'submitted_at'])


def downgrade():
    for name in ('dsr_submitted_at', 'lower_ans_number', 'siret_submitted_at', 'type_submitted_at', 'status_sequence',
                 'status_submitted_at'):
        op.drop_index(f'ix_enrolment_request_{name}', table_name='enrolment_request')
    for column in REPLACED:
        op.create_index(f'ix_enrolment_request_{column}', 'enrolment_request', [column])
