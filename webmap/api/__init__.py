"""The JSON and tile endpoints, one blueprint module per resource. No module here imports another
(an import-linter contract checks it); what two of them share lives in :mod:`webmap.http`."""
