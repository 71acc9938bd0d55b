"""Where document bytes live: one interface, two backends.

- ``LocalStorage`` (the embedded default): files under ``UPLOAD_FOLDER/<2 first chars>/<key>``,
  on this host's disk.
- ``S3Storage`` (chosen when ``S3_BUCKET`` is set): objects ``S3_PREFIX + key`` in an
  S3-compatible bucket (AWS, MinIO, Ceph, Scaleway…), through ``boto3``, so that every web and
  worker process of every host reads and writes the same documents.

Both offer ``put(key, data)`` (a new key: never overwrites), ``open(key)`` (a ``Stored`` to stream),
``read(key)`` (the bytes), ``delete(key)`` (a missing key is not an error) and ``check()`` (why
documents cannot be stored, in French, or None). A key is the document's ``storage_name``: a
random name that the portal generates (``KEY``); anything else is refused, so that a tampered
name can never reach another file or object.

``current()`` is the backend the app's configuration names; ``documents`` keeps the database and
the storage in step (a file written in a rolled-back transaction is deleted, a deleted row's file
only once the deletion has committed).
"""
import functools
import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

#: The names the portal generates for stored documents (``documents.store``).
KEY = re.compile(r"[0-9a-f]{32}\.(?:pdf|png|jpg)")
UNUSABLE = "stockage des documents inutilisable"


def checked_key(key: str) -> str:
    if not KEY.fullmatch(key or ""):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


@dataclass
class Stored:
    """An open stored file: read it in chunks (``file.read(n)``), then close it."""

    file: BinaryIO
    size: int
    modified: datetime | float


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def open(self, key: str) -> Stored: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def check(self) -> str | None: ...


# --- local folder -------------------------------------------------------------------------------

class LocalStorage:
    """Files in a folder of this host, outside the web root."""

    def __init__(self, folder: str | Path, static_folder: str | None):
        self.configured, self.static_folder = Path(folder), static_folder

    def folder(self) -> Path:
        """The folder, created if missing; refused inside the static (web) folder."""
        folder = self.configured.resolve()
        if self.static_folder and folder.is_relative_to(Path(self.static_folder).resolve()):
            raise RuntimeError(f"UPLOAD_FOLDER ({folder}) must not be inside the static folder")
        folder.mkdir(mode=0o750, parents=True, exist_ok=True)
        return folder

    def path(self, key: str) -> Path:
        checked_key(key)
        return self.folder() / key[:2] / key

    def put(self, key: str, data: bytes) -> None:
        """Write a new file (never over an existing one), synced to disk before returning."""
        path = self.path(key)
        path.parent.mkdir(mode=0o750, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def open(self, key: str) -> Stored:
        file = self.path(key).open("rb")
        status = os.fstat(file.fileno())
        return Stored(file, status.st_size, status.st_mtime)

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def check(self) -> str | None:
        """A file can be written and removed in the folder."""
        try:
            folder = self.folder()
            probe = folder / f".sante-{uuid.uuid4().hex}"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            return f"{UNUSABLE} ({exc.strerror or type(exc).__name__})"
        return None


# --- S3 -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class S3Settings:
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None       # None: boto3's own chain (environment, instance role…)
    secret_access_key: str | None = None
    addressing_style: str = "auto"         # "path" for most MinIO / Ceph set-ups


class S3Storage:
    """Objects in one bucket, under an optional key prefix."""

    def __init__(self, settings: S3Settings):
        import boto3
        from botocore.config import Config
        self.settings = settings
        self.client = boto3.client(
            "s3", endpoint_url=settings.endpoint_url, region_name=settings.region,
            aws_access_key_id=settings.access_key_id, aws_secret_access_key=settings.secret_access_key,
            config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"},
                          s3={"addressing_style": settings.addressing_style}))

    def object_key(self, key: str) -> str:
        return self.settings.prefix + checked_key(key)

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.settings.bucket, Key=self.object_key(key), Body=data)

    def open(self, key: str) -> Stored:
        answer = self.client.get_object(Bucket=self.settings.bucket, Key=self.object_key(key))
        return Stored(answer["Body"], answer["ContentLength"], answer["LastModified"])

    def read(self, key: str) -> bytes:
        stored = self.open(key)
        with stored.file:
            return stored.file.read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.settings.bucket, Key=self.object_key(key))

    def check(self) -> str | None:
        """The bucket answers (``HeadBucket``: it exists and these credentials may use it)."""
        from botocore.exceptions import BotoCoreError, ClientError
        bucket = self.settings.bucket
        try:
            self.client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket"):
                return f"{UNUSABLE} (compartiment S3 « {bucket} » introuvable)"
            if code in ("403", "AccessDenied"):
                return f"{UNUSABLE} (accès refusé au compartiment S3 « {bucket} »)"
            return f"{UNUSABLE} (compartiment S3 « {bucket} » : erreur {code})"
        except BotoCoreError as exc:  # endpoint unreachable, no credentials, timeout…
            return f"{UNUSABLE} (S3 injoignable : {type(exc).__name__})"
        return None


@functools.cache
def _s3(settings: S3Settings) -> S3Storage:
    """One client per set of settings and process (boto3 clients are thread-safe)."""
    return S3Storage(settings)


def current() -> Storage:
    """The storage the app's configuration names: S3 when ``S3_BUCKET`` is set, else the folder."""
    config = current_app.config
    if config["S3_BUCKET"]:
        return _s3(S3Settings(
            bucket=config["S3_BUCKET"], prefix=config["S3_PREFIX"], endpoint_url=config["S3_ENDPOINT_URL"],
            region=config["S3_REGION"], access_key_id=config["S3_ACCESS_KEY_ID"],
            secret_access_key=config["S3_SECRET_ACCESS_KEY"], addressing_style=config["S3_ADDRESSING_STYLE"]))
    return LocalStorage(config["UPLOAD_FOLDER"], current_app.static_folder)
