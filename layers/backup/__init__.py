"""Backups of what staff published: one layer version with its metadata, out and back in.

``webmap layers export`` writes a version (:mod:`layers.backup.export`), ``webmap layers
restore`` publishes it again as a new version (:mod:`layers.backup.restore`). The whole
service's backup (pg_dump and the raster folder) is described in docs/operations.md.
"""

from layers.backup.export import Exported, export_layer, sidecar_of
from layers.backup.metadata import BackupMetadata, NotABackup
from layers.backup.restore import Restored, read_backup, restore_layer

__all__ = [
    "BackupMetadata",
    "Exported",
    "NotABackup",
    "Restored",
    "export_layer",
    "read_backup",
    "restore_layer",
    "sidecar_of",
]
