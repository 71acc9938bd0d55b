"""status_codes: a request stores its status's code; statuses are process data (app/package/statuses.py)

Revision ID: a7c3e5f9b2d1
Revises: f1a2b3c4d5e6
Create Date: 2026-12-01 11:00:00

Upgrade: each request's status label becomes its code, and every package version deployed before
the statuses section existed gets the seven statuses of then (so that the requests running on it
read them). Downgrade: codes become the labels of then again (a status added since: its supplier label
in the current package); the packages keep their statuses section (older code ignores it).
"""
import json

from alembic import op
import sqlalchemy as sa


revision = 'a7c3e5f9b2d1'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def _status(label, badge, acts, actions=(), final=False, validation=False, outcome="none"):
    return {"supplier_label": label, "agent_label": label, "badge": badge, "acts": acts, "actions": list(actions),
            "final": final, "validation": validation, "outcome": outcome}


# The statuses as they were when this migration was written (a migration never reads the app's code).
STATUSES = {
    "draft": _status("Brouillon", "new", "supplier"),
    "in_progress": _status("En cours", "info", "agency"),
    "partially_validated": _status("Validation partielle - En attente de certificat(s)", "warning", "supplier",
                                   ["add_certificate"], validation=True, outcome="partial"),
    "awaiting_documents": _status("En attente de pièce(s) jointe(s) complémentaire(s)", "warning", "supplier",
                                  ["deposit_documents"]),
    "certificates_to_validate": _status("Certificat(s) à valider", "new", "agency", outcome="partial"),
    "rejected": _status("Rejetée", "error", "none", final=True, outcome="rejected"),
    "validated": _status("Validée", "success", "none", final=True, validation=True, outcome="validated"),
}

requests = sa.table('enrolment_request', sa.column('status', sa.String))
packages = sa.table('process_package', sa.column('id', sa.Integer), sa.column('data_json', sa.Text),
                    sa.column('is_current', sa.Boolean))


def _rename(pairs):
    for old, new in pairs:
        op.execute(requests.update().where(requests.c.status == old).values(status=new))


def upgrade():
    _rename((item["supplier_label"], code) for code, item in STATUSES.items())
    connection = op.get_bind()
    for row in connection.execute(sa.select(packages.c.id, packages.c.data_json)).all():
        data = json.loads(row.data_json)
        if not data.get("statuses"):
            data["statuses"] = STATUSES
            connection.execute(packages.update().where(packages.c.id == row.id)
                               .values(data_json=json.dumps(data, ensure_ascii=False)))


def downgrade():
    connection = op.get_bind()
    current = connection.execute(sa.select(packages.c.data_json).where(packages.c.is_current.is_(True))).scalar()
    defined = {**(json.loads(current).get("statuses") or {} if current else {}), **STATUSES}
    _rename((code, item["supplier_label"]) for code, item in defined.items())
