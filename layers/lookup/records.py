"""What import readers produce: one address, one property unit, or a reason a row was skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from layers.lookup.normalize import HouseNumber


@dataclass(frozen=True)
class AddressRecord:
    """One address as read from a file, coordinates still in the file's CRS (x = easting/lon)."""

    street: str
    number: HouseNumber
    x: float
    y: float
    postcode: str | None = None
    city: str | None = None
    district: str | None = None
    source_id: str | None = None
    #: Something dropped to keep the row (e.g. a postcode that is not five digits).
    warning: str | None = None


@dataclass(frozen=True)
class PropertyRecord:
    """One property unit as read: its designation and polygon (WKB in the file's CRS)."""

    designation: str
    wkb: bytes
    source_id: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A source row that was not imported, and why (the reason is counted in the summary)."""

    reason: str


@dataclass
class ImportReport:
    """The summary an import prints: rows read, stored, and skipped by reason."""

    read: int = 0
    stored: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def skip(self, reason: str, count: int = 1) -> None:
        """Count ``count`` rows skipped for ``reason``."""
        if count:
            self.skipped[reason] += count

    def lines(self) -> list[str]:
        """Human-readable summary lines, most frequent skip reason first."""
        total = sum(self.skipped.values())
        out = [f"read {self.read} rows, stored {self.stored}, skipped {total}"]
        out += [f"  skipped {n}: {reason}" for reason, n in self.skipped.most_common()]
        out += [f"  kept {n}, but {what}" for what, n in self.warnings.most_common()]
        out += [f"  note: {note}" for note in self.notes]
        return out
