"""Where a request stands, for the request pages: its diagrams with the path done and the current
position (``engine.position``), and one plain-French line saying whose turn it is and since when."""
from .. import clock
from ..engine import Run
from ..engine.position import Position, position
from .. import roles
from ..package import statuses
from ..roles import AGENT


def of(request) -> Position:
    return position(Run.load(request.instance, request))


def turn_line(request, where: Position, for_staff: bool = False) -> str | None:
    """« C'est à vous d'agir depuis le … » and the like, addressed to the supplier (or, with
    ``for_staff``, to the agency's staff); None while nobody is to act (the system works)."""
    if where.completed:
        decided = f" le {clock.datetime_fr(request.status_changed_at)}" if request.status_changed_at else ""
        label = statuses.of(request.status).label(for_staff).lower()
        return (f"Demande instruite : {label}{decided}." if for_staff
                else f"Votre demande est instruite : {label}{decided}.")
    turn = where.turn
    if turn is None:
        return None
    since = clock.datetime_fr(turn.since)
    known = roles.current()
    if turn.lane not in known.lanes:
        return None
    if turn.lane not in known.staff_lanes:
        return (f"Au tour du fournisseur depuis le {since} : {turn.task}." if for_staff
                else f"C'est à vous d'agir depuis le {since} : {turn.task}.")
    if turn.lane == roles.lane_of(AGENT):
        return (f"Au tour d'un gestionnaire de l'ASP depuis le {since} : {turn.task}." if for_staff
                else f"Votre demande est entre les mains d'un gestionnaire de l'ASP depuis le {since}.")
    return (f"Au tour du couloir « {turn.lane} » depuis le {since} : {turn.task}." if for_staff
            else f"Votre demande est entre les mains de l'ASP depuis le {since}.")
