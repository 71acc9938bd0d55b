"""The supplier's timeline of a request, in plain French, instead of the diagram: the line saying
whose turn it is and since when, then what happened and when, what is under way and since when
(with any deadline to answer before), and what comes next on the usual path.

Everything comes from the request's own diagram version (``engine.position.milestones``): the
elements an analyst gave a ``timelineLabel`` in the studio, and the ``timelineDeadline`` wording of
a timer; changing them and deploying changes the timelines of the requests started afterwards.
"""
from dataclasses import dataclass, replace

from .. import clock
from ..engine import Run
from ..engine.position import CURRENT_MILESTONE, DONE, milestones, position
from . import position as positions


@dataclass(frozen=True)
class Entry:
    label: str
    state: str               # « done », « current » or « next » (the template's classes and badges)
    when: str                # « Fait le 01/12/2026 », « En cours depuis le 01/12/2026 », « À venir »
    deadline: str | None     # « Répondez avant le 16/12/2026 »
    present: bool = False    # the innermost step under way: where the request stands now


@dataclass(frozen=True)
class Timeline:
    entries: list[Entry]
    turn_line: str | None    # « C'est à vous d'agir depuis le … » (services.position.turn_line)


def _when(milestone) -> str:
    if milestone.state == DONE:
        return f"Fait le {clock.date_fr(milestone.at)}"
    if milestone.state == CURRENT_MILESTONE:
        return f"En cours depuis le {clock.date_fr(milestone.at)}"
    return "À venir"


def of(request) -> Timeline:
    run = Run.load(request.instance, request)
    entries = [Entry(m.label, m.state, _when(m),
                     m.deadline.wording.replace("{date}", clock.date_fr(m.deadline.at)) if m.deadline else None)
               for m in milestones(run)]
    current = [i for i, entry in enumerate(entries) if entry.state == CURRENT_MILESTONE]
    if current:
        entries[current[-1]] = replace(entries[current[-1]], present=True)
    return Timeline(entries, positions.turn_line(request, position(run)))
