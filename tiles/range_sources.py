"""Byte ranges of an archive, from a local file or from a static host over HTTP.

A PMTiles reader needs three things of its storage: read ``length`` bytes at ``offset``, tell
whether the archive behind the name is still the one it opened (a re-export replaces it), and
close. A local file answers with ``os.pread``; an archive on a CDN or static web server with
HTTP ``Range`` requests, as every PMTiles client does, pinned to the ``ETag`` (else
``Last-Modified``) of its first answer, so a half-replaced archive is never mixed with the old.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from tiles.errors import TileError


class ArchiveUnusable(TileError):
    """A configured archive cannot be read, or is not one ``webmap tiles export`` wrote."""


class RangeSource(Protocol):
    """Where an archive's bytes come from."""

    location: str

    def read(self, offset: int, length: int) -> bytes: ...

    def is_current(self) -> bool: ...

    def close(self) -> None: ...


class FileSource:
    """An archive on local disk, read with ``pread`` (thread-safe, no shared file position)."""

    def __init__(self, path: Path) -> None:
        self.location = str(path)
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise ArchiveUnusable(f"Cannot open the tile archive {path}: {exc.strerror}.") from exc
        self._identity = _identity(os.fstat(self._fd))

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def is_current(self) -> bool:
        """Whether ``path`` is still this file: an export replaces an archive by renaming a new
        file onto it, which the open descriptor does not follow."""
        try:
            return _identity(os.stat(self.path)) == self._identity
        except OSError:
            return True  # gone for now: keep serving what is open rather than fail

    def close(self) -> None:
        """Close the file (idempotent); also done when the source is garbage-collected."""
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        self.close()


def _identity(found: os.stat_result) -> tuple[int, int, int, int]:
    return (found.st_dev, found.st_ino, found.st_mtime_ns, found.st_size)


class HttpSource:
    """An archive on a static host or CDN (any server that answers ``Range`` with ``206``).

    ``recheck`` seconds after the last check, :meth:`is_current` asks the host (``HEAD``)
    whether the archive was replaced; between checks every read still compares the validator,
    so a replacement is noticed at the first read that sees it.
    """

    def __init__(self, url: str, timeout: float = 5.0, recheck: float = 60.0) -> None:
        if not url.startswith(("http://", "https://")):  # never file: or ftp: through urllib
            raise ArchiveUnusable(f"{url[:80]!r} is not an http(s) URL.")
        self.location = url
        self._timeout = timeout
        self._recheck = recheck
        self._validator: str | None = None
        self._checked = time.monotonic()
        self._changed = False

    def _open(self, request: urllib.request.Request) -> tuple[int, dict[str, str], bytes]:
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310
                return answer.status, dict(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as exc:
            raise ArchiveUnusable(f"{self.location} answered HTTP {exc.code}.") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ArchiveUnusable(f"Cannot reach the tile archive {self.location}: {exc}.") from exc

    @staticmethod
    def _validator_of(headers: dict[str, str]) -> str | None:
        found = {k.lower(): v for k, v in headers.items()}
        return found.get("etag") or found.get("last-modified")

    def read(self, offset: int, length: int) -> bytes:
        last = offset + length - 1
        ranged = {"Range": f"bytes={offset}-{last}"}
        asked = urllib.request.Request(self.location, headers=ranged)  # noqa: S310 (http(s) only)
        status, headers, body = self._open(asked)
        if status != 206 or len(body) != length:
            raise ArchiveUnusable(
                f"{self.location} did not answer a Range request with the bytes asked for "
                f"(HTTP {status}, {len(body)} of {length} bytes); the host must support Range."
            )
        validator = self._validator_of(headers)
        if self._validator is None:
            self._validator = validator
        elif validator != self._validator:
            self._changed = True
            raise ArchiveUnusable(f"{self.location} was replaced while being read.")
        return body

    def is_current(self) -> bool:
        if self._changed:
            return False
        if time.monotonic() - self._checked < self._recheck:
            return True
        self._checked = time.monotonic()
        try:
            head = urllib.request.Request(self.location, method="HEAD")  # noqa: S310
            _, headers, _ = self._open(head)
        except ArchiveUnusable:
            return True  # the host is away for now: keep what is open, the reads will tell
        return self._validator_of(headers) == self._validator

    def close(self) -> None:
        return None


def open_source(location: str) -> RangeSource:
    """A source for ``location``: an ``http(s)://`` URL, else a local path."""
    if location.startswith(("http://", "https://")):
        return HttpSource(location)
    return FileSource(Path(location))
