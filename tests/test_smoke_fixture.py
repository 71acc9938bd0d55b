from app.extensions import db
from app.models import Counter


def test_database_roundtrip(app):
    with app.app_context():
        db.session.add(Counter(name="x", value=1))
        db.session.commit()
        assert db.session.get(Counter, "x").value == 1
