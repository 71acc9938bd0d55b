"""A process package as one zip archive, to take it from one portal to another or to a review.

The archive holds the package's files exactly as ``flask bpmn export`` writes them
(``package.write_files``): the BPMN files at its root, ``package/<section>.json`` and each section's
own files (the mails under ``mail_templates/``). Importing an archive turns it into drafts (diagrams
and data), checked but not deployed: the analyst compares and deploys them as any other draft.
Whatever comes from outside is refused in French before anything is written: a file that is not a
zip, a path leaving the archive, a file too big, an unknown section or file, an unreadable one.
"""
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .. import package
from ..package import SECTIONS, Folders
from ..engine.specs import Problem
from . import processes
from .processes import StudioError

#: Per file and in all (uncompressed), and how many files: an archive is a few diagrams and data.
MAX_FILE = 2 * 1024 * 1024
MAX_TOTAL = 20 * 1024 * 1024
MAX_FILES = 1000


def _where(root: Path) -> Folders:
    return Folders(root, root / "mail_templates")


def export(sources: dict[str, str], data: dict) -> bytes:
    """The zip archive of a package ({file name: XML}, data)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        package.write_files(sources, data, _where(root))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()


def export_current() -> tuple[int, bytes]:
    """(version number, archive) of the deployed package."""
    row = package.current_row()
    if row is None:
        raise StudioError("Aucun paquet de processus n'est déployé.")
    return row.version, export(json.loads(row.sources_json), package.load(row).data)


def _member(info: zipfile.ZipInfo) -> PurePosixPath:
    """The path of an archive member, refused if it would leave the archive's folder."""
    name = info.filename
    path = PurePosixPath(name)
    if "\\" in name or path.is_absolute() or ".." in path.parts or ":" in name or not path.parts:
        raise StudioError(f"L'archive contient un chemin interdit : « {name} ».")
    return path


def _extract(content: bytes, root: Path) -> list[PurePosixPath]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise StudioError("Le fichier n'est pas une archive zip de paquet de processus.") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) > MAX_FILES:
            raise StudioError(f"L'archive contient trop de fichiers (au plus {MAX_FILES}).")
        paths, total = [], 0
        for info in members:
            path = _member(info)
            limit = MAX_FILE // (1024 * 1024)
            if info.file_size > MAX_FILE:
                raise StudioError(f"Le fichier « {info.filename} » est trop volumineux (au plus {limit} Mo).")
            try:
                with archive.open(info) as stream:
                    body = stream.read(MAX_FILE + 1)
            except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError):
                raise StudioError(f"Le fichier « {info.filename} » de l'archive est illisible.") from None
            if len(body) > MAX_FILE:  # the size the archive announces may lie
                raise StudioError(f"Le fichier « {info.filename} » est trop volumineux (au plus {limit} Mo).")
            total += len(body)
            if total > MAX_TOTAL:
                raise StudioError(f"L'archive est trop volumineuse (au plus {MAX_TOTAL // (1024 * 1024)} Mo une fois décompressée).")
            target = root.joinpath(*path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            paths.append(path)
    return paths


def _files_written(sources: dict[str, str], data: dict) -> set[PurePosixPath]:
    """The files a package with these contents is made of (what ``write_files`` writes)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        package.write_files(sources, data, _where(root))
        return {PurePosixPath(p.relative_to(root).as_posix()) for p in root.rglob("*") if p.is_file()}


def read(content: bytes) -> tuple[dict[str, str], dict]:
    """({file name: XML}, {section: value}) of an archive, the sections it holds only. Raises
    ``StudioError`` with the reason, in French."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        paths = _extract(content, root)
        for path in paths:
            if path.parts[0] == "package" and len(path.parts) == 2 and path.suffix == ".json" \
                    and path.stem not in SECTIONS:
                raise StudioError(f"L'archive contient une section inconnue : « {path.stem} ».")
        where = _where(root)
        try:
            sources = {p.name: p.read_text(encoding="utf-8") for p in sorted(root.glob("*.bpmn"))}
        except UnicodeDecodeError:
            raise StudioError("Un diagramme de l'archive n'est pas un texte UTF-8.") from None
        data = {}
        for name, section in SECTIONS.items():
            try:
                value = section.read(where)
            except (ValueError, OSError, KeyError, TypeError):
                raise StudioError(f"La section « {section.label} » de l'archive est illisible "
                                  "(fichier mal formé).") from None
            if value != section.empty():
                data[name] = value
        unknown = sorted(str(p) for p in set(paths) - _files_written(sources, {**package.current().data, **data}))
        if unknown:
            raise StudioError("L'archive contient des fichiers qui ne font pas partie d'un paquet de processus : "
                              + ", ".join(f"« {name} »" for name in unknown) + ".")
    if not sources and not data:
        raise StudioError("L'archive ne contient ni diagramme ni donnée de paquet de processus.")
    for name, value in data.items():
        if not isinstance(value, dict) or not all(isinstance(item, dict) for item in value.values()):
            raise StudioError(f"La section « {SECTIONS[name].label} » de l'archive doit associer à chaque code "
                              "ses champs ({code : {champ : valeur}}).")
    return sources, data


@dataclass
class Imported:
    files: list[str] = field(default_factory=list)      # diagrams now in draft
    sections: list[str] = field(default_factory=list)   # sections now in draft (labels)
    problems: list[Problem] = field(default_factory=list)


def import_archive(content: bytes, author: str) -> Imported:
    """Make the archive's package the drafts: a diagram or section that differs from the deployed one
    becomes (or replaces) its draft, one equal to it drops its draft. Everything is refused before
    anything is written; nothing is deployed. The result says what is in draft and what « Vérifier »
    finds."""
    sources, data = read(content)
    deployed = package.deployed_sources()
    for name, xml in sources.items():
        if name not in deployed:
            raise StudioError(f"« {name} » n'est pas un diagramme déployé : un nouveau fichier se déploie "
                              "depuis le dépôt (flask bpmn deploy).")
        processes.editing(name, xml)  # a BPMN file that defines a process
    done = Imported()
    for name, xml in sources.items():
        if xml == deployed[name]:
            processes.discard_draft(name)
        else:
            processes.save_draft(name, xml, author)
            done.files.append(name)
    current = package.current().data
    for name, value in data.items():
        if value == current[name]:
            package.discard_section_draft(name)
        else:
            package.save_section_draft(name, value, author)
            done.sections.append(SECTIONS[name].label)
    done.problems = package.check_drafts()
    return done
