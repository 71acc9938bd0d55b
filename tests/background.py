"""The worker's pass over asynchronous tasks, as tests drive it: what the portal's worker does right
after a commit that made such work due (``app.services.continuations``)."""


def run_continuations(app) -> int:
    """Run every due asynchronous continuation, one transaction each; how many went through."""
    from app.services import continuations
    from app.worker import drain
    with app.app_context():
        return sum(drain(continuations.run_next))
