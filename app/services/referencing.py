"""ANS referencing directory: look a number up, import the directory from a CSV file."""
import csv
import io
import re
from dataclasses import dataclass, field
from os import PathLike
from typing import IO

from sqlalchemy import func
from stdnum.fr import siren as stdnum_siren

from ..extensions import db
from ..models import Referencing

COLUMNS = ("ans_number", "software_name", "software_version", "dsr", "profile",
           "validated", "sons_dpi", "editor_siren")
BOOLEAN_COLUMNS = ("validated", "sons_dpi")
BOOLEANS = {"oui": True, "true": True, "1": True, "non": False, "false": False, "0": False}
_ANS_NUMBER = re.compile(r"^[A-Za-z0-9]+$")


def dsr_values() -> list[str]:
    """The DSR (couloirs) of the directory, in alphabetical order: the agents' queue filters on one
    of them (requests copy theirs from the directory)."""
    return list(db.session.scalars(db.select(Referencing.dsr).distinct().order_by(Referencing.dsr)))


def normalise(ans_number: str) -> str:
    return "".join((ans_number or "").split())


def _find(ans_number: str) -> Referencing | None:
    return db.session.scalars(db.select(Referencing).where(
        func.lower(Referencing.ans_number) == ans_number.lower())).first()


def lookup(ans_number: str) -> dict:
    """The referencing of a number (any case, spaces ignored), with its stored spelling."""
    number = normalise(ans_number)
    found = _find(number) if number else None
    if found is None:
        return {"found": False, "ans_number": number}
    return {"found": True, **{column: getattr(found, column) for column in COLUMNS}}


# --- import ------------------------------------------------------------------------------------

@dataclass
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"Ligne {self.line} : {self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def messages(self) -> list[str]:
        return [str(error) for error in self.errors]


def _read_text(path_or_file: str | PathLike | IO) -> str:
    if hasattr(path_or_file, "read"):
        content = path_or_file.read()
    else:
        with open(path_or_file, "rb") as file:
            content = file.read()
    return content.decode("utf-8-sig") if isinstance(content, bytes) else content.lstrip("\ufeff")


def _parse_row(row: dict, line: int) -> tuple[dict, list[LineError]]:
    """Check one line; return its values and its errors."""
    errors, values = [], {}
    if None in row:  # more fields than columns
        errors.append(LineError(line, f"{len(COLUMNS) + len(row[None])} valeurs au lieu de {len(COLUMNS)}."))
    for column in COLUMNS:
        raw = row.get(column)
        if raw is None:
            errors.append(LineError(line, f"colonne « {column} » manquante."))
            continue
        value = raw.strip()
        if not value:
            errors.append(LineError(line, f"la colonne « {column} » est vide."))
        elif column in BOOLEAN_COLUMNS:
            if value.lower() not in BOOLEANS:
                errors.append(LineError(line, f"valeur « {value} » invalide pour « {column} » "
                                              "(attendu : oui/non, true/false ou 1/0)."))
            values[column] = BOOLEANS.get(value.lower())
        elif column == "editor_siren":
            if not stdnum_siren.is_valid(value):
                errors.append(LineError(line, f"SIREN de l'éditeur « {value} » invalide "
                                              "(9 chiffres avec une clé de contrôle correcte)."))
            values[column] = stdnum_siren.compact(value)
        else:
            if column == "ans_number":
                value = normalise(value)
                if not _ANS_NUMBER.match(value):
                    errors.append(LineError(line, f"numéro de référencement « {value} » invalide "
                                                  "(lettres et chiffres uniquement)."))
            limit = Referencing.__table__.c[column].type.length
            if len(value) > limit:
                errors.append(LineError(line, f"la colonne « {column} » dépasse {limit} caractères."))
            values[column] = value
    return values, errors


def import_csv(path_or_file: str | PathLike | IO) -> ImportReport:
    """Create or update (by ANS number, any case) every line of a semicolon-separated UTF-8 file.

    All or nothing: when a line is invalid nothing is written and the report lists every error.
    On success the import is committed as one transaction.
    """
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(_read_text(path_or_file), newline=""), delimiter=";")
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        names = ", ".join(f"« {column} »" for column in missing)
        report.errors.append(LineError(1, f"colonne(s) manquante(s) dans l'en-tête : {names}."))
        return report
    reader.fieldnames = header

    rows, seen = [], {}
    for row in reader:
        values, errors = _parse_row(row, reader.line_num)
        key = values.get("ans_number", "").lower()
        if key and key in seen:
            errors.append(LineError(reader.line_num, f"numéro « {values['ans_number']} » déjà présent "
                                                     f"à la ligne {seen[key]}."))
        if key:
            seen.setdefault(key, reader.line_num)
        report.errors.extend(errors)
        rows.append(values)
    if report.errors:
        return report

    for values in rows:
        existing = _find(values["ans_number"])
        if existing is None:
            db.session.add(Referencing(wave=2, **values))
            report.created += 1
        else:
            values["ans_number"] = existing.ans_number  # keep the stored spelling (primary key)
            for column, value in values.items():
                setattr(existing, column, value)
            report.updated += 1
    db.session.flush()  # the caller commits the import as one unit
    return report
