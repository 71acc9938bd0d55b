"""roles and lanes as data: accounts hold several roles (user_role), the lanes each instance waits
in (waiting_lane, the queues' projection of the workflow state)

Revision ID: a7c4e2f9b1d3
Revises: a7c3e5f9b2d1
Create Date: 2026-12-01 11:00:00

Every account gets a user_role row for the role it had. Every running instance gets a waiting_lane
row per lane of its ready user tasks, read from its saved state and its version's specs (the same
thing ``Run.save`` writes from then on).
"""
import json

from alembic import op
import sqlalchemy as sa


revision = 'a7c4e2f9b1d3'
down_revision = 'a7c3e5f9b2d1'
branch_labels = None
depends_on = None

READY = 16  # SpiffWorkflow's TaskState.READY


def upgrade():
    op.create_table(
        'user_role',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'role'),
    )
    op.create_index('ix_user_role_user_id', 'user_role', ['user_id'])
    op.create_index('ix_user_role_role', 'user_role', ['role'])
    op.create_table(
        'waiting_lane',
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('lane', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['workflow_instance.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('instance_id', 'lane'),
    )
    op.create_index('ix_waiting_lane_lane', 'waiting_lane', ['lane'])
    bind = op.get_bind()
    bind.execute(sa.text("INSERT INTO user_role (user_id, role) SELECT id, role FROM user_account"))
    rows = bind.execute(sa.text(
        "SELECT i.id, i.state_json, v.spec_json FROM workflow_instance i "
        "JOIN process_version v ON v.id = i.process_version_id WHERE NOT i.completed")).all()
    for instance_id, state_json, spec_json in rows:
        for lane in sorted(_waiting_lanes(json.loads(state_json), json.loads(spec_json))):
            bind.execute(sa.text("INSERT INTO waiting_lane (instance_id, lane) VALUES (:i, :l)"),
                         {"i": instance_id, "l": lane})


def _waiting_lanes(state: dict, specs: dict) -> set:
    """Lanes of the ready user tasks of a serialized workflow (top process and subprocesses)."""
    lanes = set()
    workflows = [(state, specs["spec"])]
    workflows += [(sub, specs.get("subprocess_specs", {}).get(sub.get("spec"), {}))
                  for sub in state.get("subprocesses", {}).values()]
    for workflow, spec in workflows:
        task_specs = spec.get("task_specs", {})
        for task in workflow.get("tasks", {}).values():
            task_spec = task_specs.get(task.get("task_spec"), {})
            if task.get("state") == READY and "UserTask" in task_spec.get("typename", "") and task_spec.get("lane"):
                lanes.add(task_spec["lane"])
    return lanes


def downgrade():
    op.drop_index('ix_waiting_lane_lane', table_name='waiting_lane')
    op.drop_table('waiting_lane')
    op.drop_index('ix_user_role_role', table_name='user_role')
    op.drop_index('ix_user_role_user_id', table_name='user_role')
    op.drop_table('user_role')
