"""The review grid: an agent's verdict (« conforme » / « non conforme » and why) on each document of
a request, and the documents' versions. The documents of a request of the same type form a chain
of versions, oldest first: a version is what one submission filed, or one deposit round imported,
of that type (a KBIS in two files is one version); the newest is current, the earlier ones are
« version n », kept for the staff."""
from dataclasses import dataclass

from sqlalchemy.orm import joinedload

from .. import clock, package
from ..extensions import db
from ..models import Document, DocumentVerdict, EnrolmentRequest, User
from ..models.document import NON_CONFORME, VERDICT_LABELS
from ..package.refusal_reasons import OTHER
from . import audit, documents
from .documents import ROUND_MARKER


def reasons() -> dict[str, str]:
    """{code: label} of the reasons an agent picks from (the process package's), then « Autre »."""
    return package.current()["refusal_reasons"]


@dataclass(frozen=True)
class Version:
    document: Document
    number: int                        # 1 for the first version of its type
    verdict: DocumentVerdict | None    # the latest one, if any
    current: bool                      # of its type's newest version


@dataclass(frozen=True)
class Chain:
    """The documents of one type, oldest first: those of the last version are the current ones."""
    kind: str
    label: str
    versions: list[Version]

    @property
    def numbered(self) -> bool:
        """Whether the type has had more than one version (the grid then numbers them)."""
        return self.versions[-1].number > 1

    @property
    def earlier(self) -> list[Version]:
        return [v for v in self.versions if not v.current]


def _filed(request: EnrolmentRequest) -> list[Document]:
    return sorted(documents.filed(request), key=lambda d: (_filed_at(d), d.id))


def _filed_at(document: Document):
    return document.filed_at or document.uploaded_at


def _version_key(document: Document):
    """What makes a version: the deposit round the file was imported in, else the moment it was filed."""
    field = document.field or ""
    return field if field.startswith(ROUND_MARKER) else _filed_at(document)


def latest(document_ids) -> dict[int, DocumentVerdict]:
    """{document id: its latest verdict} for those judged, one query (with the agents)."""
    if not document_ids:
        return {}
    rows = db.session.scalars(db.select(DocumentVerdict).where(DocumentVerdict.document_id.in_(list(document_ids)))
                              .options(joinedload(DocumentVerdict.agent)).order_by(DocumentVerdict.id))
    return {verdict.document_id: verdict for verdict in rows}  # the last one of each wins


def chains(request: EnrolmentRequest, with_verdicts: bool = True) -> list[Chain]:
    """The request's filed documents by type (in the order of their first filing), with versions
    and (``with_verdicts``) latest verdicts."""
    filed = _filed(request)
    verdicts = latest([d.id for d in filed if d.id is not None]) if with_verdicts else {}
    by_kind: dict[str, list[Document]] = {}
    for document in filed:
        by_kind.setdefault(document.kind, []).append(document)
    result = []
    for kind, files in by_kind.items():
        numbers: dict = {}  # version key → its number, in filing order
        numbered = [(d, numbers.setdefault(_version_key(d), len(numbers) + 1)) for d in files]
        result.append(Chain(kind, files[0].label, [Version(d, number, verdicts.get(d.id), number == len(numbers))
                                                   for d, number in numbered]))
    return result


def superseded_ids(request: EnrolmentRequest) -> set[int]:
    """The ids of the request's earlier versions (a newer version of the same type was filed)."""
    return {v.document.id for chain in chains(request, with_verdicts=False) for v in chain.earlier}


def refused(request: EnrolmentRequest) -> list[Version]:
    """The current documents whose latest verdict is « non conforme », in the grid's order."""
    return [v for chain in chains(request) for v in chain.versions
            if v.current and v.verdict is not None and v.verdict.refused]


def refused_of_kinds(request: EnrolmentRequest, kinds) -> list[Version]:
    """The documents (any version) of ``kinds`` whose latest verdict is « non conforme »: what
    the supplier is told was refused, on the deposit page."""
    return [v for chain in chains(request) if chain.kind in kinds for v in chain.versions
            if v.verdict is not None and v.verdict.refused]


def judge(document: Document, verdict: str, reason_code: str | None, typed: str, agent: User) -> DocumentVerdict:
    """Record ``agent``'s verdict on ``document`` and its history line (the caller commits).
    A « non conforme » has a reason: a listed one (``reason_code``) or, with « Autre », ``typed``."""
    if verdict == NON_CONFORME:
        reason = typed.strip() if reason_code == OTHER else reasons()[reason_code]
        code = None if reason_code == OTHER else reason_code
    else:
        reason, code = "", None
    row = DocumentVerdict(document=document, verdict=verdict, reason=reason, reason_code=code,
                          agent_id=agent.id, at=clock.now())
    db.session.add(row)
    detail = f"{reason} (fichier « {document.original_name} »)" if reason else f"Fichier « {document.original_name} »"
    audit.record(f"Pièce « {document.label} » jugée {VERDICT_LABELS[verdict]}", document.request, detail, actor=agent)
    return row


def request_message(request: EnrolmentRequest) -> tuple[list[str], str]:
    """What « Demander des pièces » starts from: the types of the current documents found non
    conforming, and one line per document with its reason."""
    versions = refused(request)
    kinds = list(dict.fromkeys(v.document.kind for v in versions))
    lines = [f"- {v.document.label} « {v.document.original_name} » : {v.verdict.reason}" for v in versions]
    return kinds, "\n".join(lines)
