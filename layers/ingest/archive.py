"""Unpacking uploaded zip archives without trusting them.

An archive is hostile until proven otherwise: entry names may climb out of the target folder
(``../../etc/cron.d/x``, ``/abs/path``, ``C:\\x``), entries may be symlinks or devices, and the
declared sizes may lie. So names are checked before anything is written, only regular files are
written (never links), and bytes are counted while they stream out, stopping as soon as the total
or the ratio to the compressed size exceeds the limits, whatever the headers claim.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from layers.ingest.errors import TooLarge, UnsafeArchive, UnsupportedFormat
from layers.ingest.limits import IngestLimits

_CHUNK = 1024 * 1024
#: Entries this small cannot hurt even at a high ratio (a .prj or .cpg compresses very well).
_RATIO_FLOOR = 1024 * 1024


def _safe_name(name: str) -> PurePosixPath:
    """The entry's relative path, or :class:`UnsafeArchive` when it could land elsewhere."""
    if "\\" in name or "\x00" in name:
        raise UnsafeArchive(f"The archive entry {name!r} has a backslash or NUL in its name.")
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and ":" in path.parts[0]):
        raise UnsafeArchive(f"The archive entry {name!r} has an absolute path.")
    if any(part == ".." for part in path.parts):
        raise UnsafeArchive(f"The archive entry {name!r} points outside the archive.")
    return path


def _is_special(info: zipfile.ZipInfo) -> bool:
    """Symlinks, devices and FIFOs (Unix mode in the high bits of ``external_attr``)."""
    kind = stat.S_IFMT(info.external_attr >> 16)
    # 0: no type recorded (Windows tools, Python's writestr); treated as a regular file.
    return kind not in (0, stat.S_IFREG, stat.S_IFDIR)


def safe_extract(archive: Path, target: Path, limits: IngestLimits) -> list[Path]:
    """Extract the regular files of ``archive`` below ``target``; returns their paths."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsupportedFormat("The .zip file is damaged or not a zip archive.") from exc
    with zf:
        entries = zf.infolist()
        if len(entries) > limits.max_entries:
            raise UnsafeArchive(
                f"The archive has {len(entries)} entries; at most {limits.max_entries} are allowed."
            )
        planned = [(info, _safe_name(info.filename)) for info in entries]
        for info, _path in planned:
            if _is_special(info):
                raise UnsafeArchive(
                    f"The archive entry {info.filename!r} is a link or device; only files are read."
                )
            if info.flag_bits & 0x1:
                raise UnsupportedFormat("Encrypted archives cannot be read.")
        declared = sum(info.file_size for info in entries)
        if declared > limits.max_unpacked_bytes:
            raise TooLarge(
                f"The archive would unpack to {declared:,} bytes; "
                f"the limit is {limits.max_unpacked_bytes:,}."
            )
        root = target.resolve()
        written: list[Path] = []
        total = 0
        for info, relative in planned:
            if info.is_dir():
                continue
            destination = (root / relative).resolve()
            if not destination.is_relative_to(root):
                raise UnsafeArchive(f"The archive entry {info.filename!r} points outside.")
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                total = _copy_entry(zf, info, destination, total, limits)
            except FileExistsError as exc:
                raise UnsafeArchive(f"The archive has {info.filename!r} twice.") from exc
            except (zipfile.BadZipFile, NotImplementedError, EOFError) as exc:
                raise UnsupportedFormat(f"The archive entry {info.filename!r} is damaged.") from exc
            written.append(destination)
        return written


def _copy_entry(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path, total: int, limits: IngestLimits
) -> int:
    """Stream one entry out, counting real bytes against the total and ratio limits."""
    size = 0
    allowed_by_ratio = max(_RATIO_FLOOR, int(info.compress_size * limits.max_ratio))
    # "x": never follow or overwrite something already there (a duplicate name, a planted link).
    with zf.open(info) as source, destination.open("xb") as sink:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            total += len(chunk)
            if size > allowed_by_ratio:
                raise TooLarge(
                    f"The archive entry {info.filename!r} expands more than "
                    f"{limits.max_ratio:g} times: refused as a zip bomb."
                )
            if total > limits.max_unpacked_bytes:
                raise TooLarge(
                    f"The archive unpacks to more than {limits.max_unpacked_bytes:,} bytes."
                )
            sink.write(chunk)
    return total
