"""Lists of enrolment requests: search criteria, counts by value, pagination. No HTTP here.

Shared by the supplier's space and the agents' queue. Each function takes a SQLAlchemy select
(typically ``access.visible_requests()``, already scoped to the current user) and narrows, counts
or slices it, so that access control stays at the one choke point:

    select = listing.newest_first(Criteria.from_args(request.args).apply(access.visible_requests()))
    page = listing.paginate(select, request.args.get("page"), per_page=20)
    counts = listing.count_by(access.visible_requests(), EnrolmentRequest.status, listing.submitted_statuses())
"""
from dataclasses import asdict, dataclass, fields
from datetime import datetime, time, timedelta
from math import ceil

from sqlalchemy import Boolean, and_, func, inspect, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BooleanClauseList, UnaryExpression
from sqlalchemy.sql.functions import FunctionElement

from .. import clock
from ..extensions import db
from ..models.request import TYPES, EnrolmentRequest
from ..package import statuses


def submitted_statuses() -> tuple[str, ...]:
    """The codes of the statuses a submitted request may have, in the package's order (drafts are
    never listed)."""
    return tuple(status.code for status in statuses.current().submitted)


# --- pagination ---------------------------------------------------------------------------------

#: A list counts its rows up to this many; past it the page says « plus de 1 000 » and offers the
#: pages around the current one and « Suivant » (a full count of 100,000 rows on every page view
#: costs more than the page itself).
COUNT_LIMIT = 1000

#: Pages offered after the current one, known to exist without counting them.
AHEAD = 2


@dataclass(frozen=True)
class Page:
    """One page of a list: its ``items``, its ``number`` (1-based) and what the pagination links
    need. ``total`` is None when the list holds more than COUNT_LIMIT rows (not counted); then
    ``ahead`` is how many rows are known to follow this page (at most AHEAD pages and one row)."""

    items: list
    number: int
    per_page: int
    total: int | None
    ahead: int = 0
    #: For a long list whose order allows it (keyset): the primary keys of this page's last and
    #: first rows, which the links to the next and previous pages carry (``after``, ``before``), so
    #: that they read their rows from there instead of skipping every row before them.
    after: int | None = None
    before: int | None = None

    @property
    def pages(self) -> int | None:
        """How many pages (at least 1, so that an empty list still has its page 1); None when the
        total is not counted."""
        return None if self.total is None else max(1, ceil(self.total / self.per_page))

    @property
    def total_label(self) -> str:
        """The number of rows as the list's caption says it: « 25 », or « plus de 1 000 »."""
        if self.total is None:
            return "plus de " + f"{COUNT_LIMIT:,}".replace(",", "\u00a0")
        return str(self.total)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages if self.total is not None else self.ahead > 0

    def numbers(self, around: int = AHEAD) -> list[int | None]:
        """Page numbers to offer: the first, the last (when the total is counted) and ``around`` on
        each side of the current one; ``None`` stands for a gap (« … ») of two pages or more (a
        single missing page is shown instead), and, when the total is not counted, for the pages
        after the last one offered."""
        if self.total is None:
            last = self.number + min(around, ceil(self.ahead / self.per_page))
        else:
            last = self.pages
        shown = sorted({1, last} | set(range(max(1, self.number - around), min(last, self.number + around) + 1)))
        result: list[int | None] = []
        for number in shown:
            if result and number - result[-1] > 1:
                result.append(number - 1 if number - result[-1] == 2 else None)
            result.append(number)
        if self.total is None and self.ahead > (last - self.number) * self.per_page:
            result.append(None)
        return result


def page_number(value) -> int:
    """A page number from user input (query string): a positive integer, 1 otherwise."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return max(number, 1)


def paginate(select, page, per_page: int = 20, options=(), runs=(), after=None, before=None) -> Page:
    """The page ``page`` of ``select`` (a select of one ORM entity, ordered by the caller: give it
    a total order, e.g. ending with the primary key, so that rows never move between pages).

    ``page`` may come straight from the query string: anything that is not a positive integer
    means page 1, and a number past the end gives the last page.

    Rows are counted up to COUNT_LIMIT only. The page is read in two steps: the primary keys of
    the page (and of up to AHEAD pages after it, to offer their links), which an index can serve
    without reading the rows it skips, then the page's own rows by primary key (with the loader
    ``options``, e.g. ``selectinload(...)``).

    ``runs``: for an order that no index serves, conditions that split the list into consecutive
    runs in that order (one per status, for the package's order of statuses), each ordered by
    ``select``'s order: the page's keys are then read run by run, each by its own index.

    ``after`` / ``before`` (from the query string too): the cursor of the page before / after this
    one (``Page.after``, the key of its last row; ``Page.before``, of its first). In a long list
    ordered by one column and the key, in one direction, the page is then read from that row on
    (backwards for ``before``), by the sort index, whatever its number: page 200 reached by
    « Suivant », or page 199 by « Précédent » from it, costs what page 1 costs. A cursor that is not
    a row of the list (it changed, or the value was typed) is ignored: the page number is used. The
    lists that use it are sorted on a column that none of their rows leaves empty."""
    mapper = inspect(select.column_descriptions[0]["entity"])
    [key] = mapper.primary_key
    unordered = select.order_by(None)
    total = _count(unordered.with_only_columns(key).limit(COUNT_LIMIT + 1))
    if total > COUNT_LIMIT:
        total = None
    number = page_number(page)
    if total is not None:
        number = min(number, max(1, ceil(total / per_page)))
    keys_select = select.with_only_columns(key)
    if total is None:
        keys_select = _in_sort_order(keys_select)
    limit = per_page * (AHEAD + 1) + 1
    keyset = _keyset(select, key) if total is None and not runs else None
    keys = _keys_by_cursor(select, keys_select, keyset, after, before, per_page, limit) \
        if keyset is not None and number > 1 else None
    if keys is None:
        keys = _keys(keys_select, runs, (number - 1) * per_page, limit)
    if total is None and not keys:
        # Past the end of a long list (a link kept from earlier, or typed): its last page.
        return paginate(select, ceil(_count(unordered.with_only_columns(key)) / per_page), per_page, options, runs)
    shown = keys[:per_page]
    rows = {mapper.primary_key_from_instance(row)[0]: row
            for row in db.session.scalars(db.select(mapper).where(key.in_(shown)).options(*options))}
    ahead = len(keys) - len(shown)
    return Page(items=[rows[value] for value in shown], number=number, per_page=per_page, total=total,
                ahead=ahead, after=shown[-1] if keyset is not None and ahead else None,
                before=shown[0] if keyset is not None and number > 1 and shown else None)


def _keyset(select, key):
    """(sort column, descending) when ``select`` is ordered by one column then ``key``, both in one
    direction (what a keyset can follow); None otherwise."""
    order = select._order_by_clauses
    if len(order) != 2 or not all(isinstance(clause, UnaryExpression) for clause in order):
        return None
    (first, second) = order
    descending = first.modifier is operators.desc_op
    if (second.modifier is operators.desc_op) != descending or not second.element.compare(key):
        return None
    return first.element, descending


def _keys_by_cursor(select, keys_select, keyset, after, before, per_page: int, limit: int):
    """The page's keys (and up to ``limit`` with those that follow) read from a cursor: after the
    row ``after``, or the ``per_page`` rows before the row ``before``; None when neither names a
    row of the list, or when fewer than a page precede ``before`` (near the start, the number
    says it better)."""
    if after:
        start = _beyond(select, keyset, after, forward=True)
        return None if start is None else list(db.session.scalars(keys_select.where(start).limit(limit)))
    end = _beyond(select, keyset, before, forward=False) if before else None
    if end is None:
        return None
    column, descending = keyset
    [key] = inspect(select.column_descriptions[0]["entity"]).primary_key
    backwards = (operators.asc_op if descending else operators.desc_op)
    reverse = keys_select.order_by(None).order_by(UnaryExpression(column, modifier=backwards),
                                                   UnaryExpression(key, modifier=backwards))
    page = list(db.session.scalars(reverse.where(end).limit(per_page)))[::-1]
    if len(page) < per_page:
        return None
    return page + list(db.session.scalars(keys_select.where(_beyond(select, keyset, page[-1], forward=True))
                                          .limit(limit - per_page)))


def _beyond(select, keyset, cursor, forward: bool):
    """The condition « comes after (``forward``) or before the row ``cursor`` » in ``select``'s
    order, or None when ``cursor`` is not a row of the list (or its sort value is empty)."""
    try:
        cursor = int(cursor)
    except (TypeError, ValueError):
        return None
    column, descending = keyset
    [key] = inspect(select.column_descriptions[0]["entity"]).primary_key
    value = db.session.scalar(select.with_only_columns(column).order_by(None).where(key == cursor))
    if value is None:
        return None
    return following(column, value, key, cursor, descending=descending == forward)


def following(column, value, key, key_value, descending: bool):
    """The condition « comes after the row (``value``, ``key_value``) » in the order of ``column``
    then ``key``, both descending (or both ascending): a keyset. The first term lets the sort index
    range-scan from the row; the second breaks ties."""
    beyond = operators.lt if descending else operators.gt
    within = operators.le if descending else operators.ge
    return and_(within(column, value), or_(beyond(column, value), and_(column == value, beyond(key, key_value))))


def _keys(select, runs, offset: int, limit: int) -> list:
    """The keys ``select`` gives from ``offset`` on (at most ``limit``), read run by run if any:
    a run that ends before ``offset`` is only counted (up to ``offset`` + 1 rows)."""
    if not runs:
        return list(db.session.scalars(select.limit(limit).offset(offset)))
    keys = []
    for condition in runs:
        run = select.where(condition)
        if offset:
            size = _count(run.order_by(None).limit(offset + 1))
            if size <= offset:
                offset -= size
                continue
        keys += db.session.scalars(run.limit(limit - len(keys)).offset(offset))
        offset = 0
        if len(keys) == limit:
            break
    return keys


def _in_sort_order(select):
    """``select`` with each of its conditions said to be met by most rows (mostly_true), for a
    list known to be long (more than COUNT_LIMIT rows): SQLite then reads it in the order of the
    sort index and stops at the page, instead of fetching every match by a condition's index and
    sorting them all (a search by a short prefix, « ENR », matches nearly every request). An index
    that serves a condition and the order at once (an equality, then the sort column) is still
    the one used, so equalities are left as they are. No change on PostgreSQL, whose planner has
    statistics."""
    def terms(clause):
        if isinstance(clause, BooleanClauseList) and clause.operator is operators.and_:
            return [term for inner in clause.clauses for term in terms(inner)]
        return [clause]
    marked = select._generate()  # Select has no public way to replace its WHERE clause
    marked._where_criteria = tuple(term if _is_equality(term) else mostly_true(term)
                                   for criterion in select._where_criteria for term in terms(criterion))
    return marked


class mostly_true(FunctionElement):
    """A condition that most rows of a list meet, said to SQLite's planner (``likely()``), which
    has no statistics; other databases get the condition itself."""

    type = Boolean()
    inherit_cache = True
    name = "mostly_true"


@compiles(mostly_true)
def _mostly_true(element, compiler, **kw):
    [condition] = element.clauses.clauses
    return compiler.process(condition.self_group(against=operators.and_), **kw)  # (a OR b) stays grouped


@compiles(mostly_true, "sqlite")
def _mostly_true_on_sqlite(element, compiler, **kw):
    return f"likely({compiler.process(element.clauses, **kw)})"


def _is_equality(term) -> bool:
    return isinstance(term, BinaryExpression) and term.operator is operators.eq


def _count(select) -> int:
    return db.session.scalar(db.select(func.count()).select_from(select.subquery()))


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

#: How each search field matches, said where it is typed (the hint under its label).
HINTS = {
    "number": "Le début du numéro (ENR0565) ou le numéro seul (565)",
    "ans_number": "Le début du numéro, majuscules ou minuscules (JGe2DPI)",
}


def starts_with(expression, prefix: str):
    """``expression`` begins with ``prefix``, case included (fold both sides first for a search in
    any case, e.g. ``func.lower(column)`` and ``prefix.lower()``).

    Written as a range, ``prefix <= expression < `` the prefix with its last character incremented,
    which an index on ``expression`` serves on SQLite and PostgreSQL alike (a ``LIKE 'p%'`` needs
    a NOCASE index on SQLite, and ``text_pattern_ops`` on PostgreSQL unless the database collates
    as C), then checked by ``LIKE`` (wildcards escaped), which keeps the result exact whatever the
    database's collation."""
    bounds = [expression >= prefix]
    if ord(prefix[-1]) < 0x10FFFF:
        bounds.append(expression < prefix[:-1] + chr(ord(prefix[-1]) + 1))
    return and_(*bounds, expression.startswith(prefix, autoescape=True))


def number_matches(text: str):
    """The requests whose number begins with ``text`` (any case: « enr0565 » finds ENR0565M0), or,
    for digits only, the request of that sequence number (« 565 » finds ENR0565M0)."""
    text = "".join(text.split()).upper()
    if text.isdigit() and len(text) <= 9:
        return EnrolmentRequest.sequence == int(text)
    return starts_with(EnrolmentRequest.number, text)


def folded_starts_with(column, text: str):
    """``column`` begins with ``text``, in any case (served by an index on ``lower(column)``)."""
    return starts_with(func.lower(column), text.lower())


@dataclass(frozen=True)
class Criteria:
    """The « Rechercher une demande d'enrôlement » criteria; an empty one is not applied.
    The field names are the query-string parameters. The number and the ANS number match by
    their beginning (HINTS), so that an index serves them."""

    number: str = ""          # number_matches
    ans_number: str = ""      # the beginning of the ANS referencing number, any case
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
            select = select.where(number_matches(self.number))
        if self.ans_number:
            select = select.where(folded_starts_with(EnrolmentRequest.ans_number, self.ans_number))
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


def deposited_between(select, first=None, last=None):
    """``select`` narrowed to the requests submitted from the day ``first`` to the day ``last``
    (dates, both included, Paris time, as the « Date de dépôt » is shown; None: no bound)."""
    if first:
        select = select.where(EnrolmentRequest.submitted_at >= _paris_midnight(first))
    if last:
        select = select.where(EnrolmentRequest.submitted_at < _paris_midnight(last + timedelta(days=1)))
    return select


def _paris_midnight(day) -> datetime:
    return datetime.combine(day, time(), tzinfo=clock.PARIS)


def newest_first(select):
    """Most recently submitted first; the id breaks ties, so the order is total (stable pages)."""
    return select.order_by(EnrolmentRequest.submitted_at.desc(), EnrolmentRequest.id.desc())
