"""What tests read from the database to check an outcome, outside any request."""
from app.extensions import db
from app.models import EnrolmentRequest


def stored(app, public_id) -> EnrolmentRequest:
    """The request ``public_id`` as stored now, detached (its loaded columns stay readable)."""
    with app.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        db.session.expunge(request)
        return request
