"""Lists of enrolment requests: search criteria, counts by value, pagination. No HTTP here.

Shared by the supplier's space and the agents' queue. Each function takes a SQLAlchemy select
(typically ``access.visible_requests()``, already scoped to the current user) and narrows, counts
or slices it, so that access control stays at the one choke point:

    select = listing.newest_first(Criteria.from_args(request.args).apply(access.visible_requests()))
    page = listing.paginate(select, request.args.get("page"), per_page=20)
    counts = listing.count_by(access.visible_requests(), EnrolmentRequest.status, listing.submitted_statuses())
"""
from dataclasses import asdict, dataclass, fields
from math import ceil

from sqlalchemy import func

from ..extensions import db
from ..models.request import TYPES, EnrolmentRequest
from ..package import statuses


def submitted_statuses() -> tuple[str, ...]:
    """The codes of the statuses a submitted request may have, in the package's order (drafts are
    never listed)."""
    return tuple(status.code for status in statuses.current().submitted)


# --- pagination ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """One page of a list: its ``items``, its ``number`` (1-based, within 1..pages) and what the
    pagination links need."""

    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages (at least 1, so that an empty list still has its page 1)."""
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    def numbers(self, around: int = 2) -> list[int | None]:
        """Page numbers to offer: the first, the last and ``around`` on each side of the current
        one; ``None`` stands for a gap (« … ») of two pages or more (a single missing page is
        shown instead)."""
        shown = sorted({1, self.pages} | set(range(max(1, self.number - around),
                                                   min(self.pages, self.number + around) + 1)))
        result: list[int | None] = []
        for number in shown:
            if result and number - result[-1] > 1:
                result.append(number - 1 if number - result[-1] == 2 else None)
            result.append(number)
        return result


def page_number(value) -> int:
    """A page number from user input (query string): a positive integer, 1 otherwise."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return max(number, 1)


def paginate(select, page, per_page: int = 20) -> Page:
    """The page ``page`` of ``select`` (any select of ORM entities, ordered by the caller: give it a
    total order, e.g. ending with the primary key, so that rows never move between pages).

    ``page`` may come straight from the query string: anything that is not a positive integer
    means page 1, and a number past the end gives the last page."""
    total = db.session.scalar(db.select(func.count()).select_from(select.order_by(None).subquery()))
    number = min(page_number(page), max(1, ceil(total / per_page)))
    items = db.session.scalars(select.limit(per_page).offset((number - 1) * per_page)).all()
    return Page(items=list(items), number=number, per_page=per_page, total=total)


# --- counting -----------------------------------------------------------------------------------

def count_by(select, column, keys=()) -> dict:
    """How many rows of ``select`` there are for each value of ``column`` (an attribute of the
    selected entity, e.g. ``EnrolmentRequest.status``): ``{value: count}``, listing every one of
    ``keys`` first and in that order (0 when there is none), then any other value found."""
    rows = select.order_by(None).subquery()
    grouped = rows.c[column.key]
    found = dict(db.session.execute(db.select(grouped, func.count()).group_by(grouped)).all())
    return {key: found.pop(key, 0) for key in keys} | found


# --- search -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Criteria:
    """The « Rechercher une demande d'enrôlement » criteria; an empty one is not applied.
    The field names are the query-string parameters."""

    number: str = ""          # part of the request number, any case (« ENR0565 » finds ENR0565M0)
    ans_number: str = ""      # part of the ANS referencing number, any case
    status: str = ""          # the code of a status (submitted_statuses)
    type: str = ""            # one of TYPES

    @classmethod
    def from_args(cls, args) -> "Criteria":
        """From a mapping of user input (e.g. ``request.args``); unknown statuses and types are
        ignored."""
        values = {f.name: " ".join(str(args.get(f.name) or "").split())[:80] for f in fields(cls)}
        if values["status"] not in submitted_statuses():
            values["status"] = ""
        if values["type"] not in TYPES:
            values["type"] = ""
        return cls(**values)

    def apply(self, select):
        """``select`` (of EnrolmentRequest) narrowed to the requests that match."""
        if self.number:
            select = select.where(EnrolmentRequest.number.icontains(self.number, autoescape=True))
        if self.ans_number:
            select = select.where(EnrolmentRequest.ans_number.icontains(self.ans_number, autoescape=True))
        if self.status:
            select = select.where(EnrolmentRequest.status == self.status)
        if self.type:
            select = select.where(EnrolmentRequest.enrolment_type == self.type)
        return select

    def args(self) -> dict:
        """The criteria in use, as query-string parameters (for pagination links)."""
        return {key: value for key, value in asdict(self).items() if value}

    def __bool__(self) -> bool:
        return bool(self.args())


def newest_first(select):
    """Most recently submitted first; the id breaks ties, so the order is total (stable pages)."""
    return select.order_by(EnrolmentRequest.submitted_at.desc(), EnrolmentRequest.id.desc())
