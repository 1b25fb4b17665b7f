"""Address, property and municipality lookups: import, staged search and reverse lookup.

Domain code only (no Flask): ``webmap.api.lookup`` adapts it to HTTP. Geometry is stored in
SWEREF 99 TM (EPSG:3006); results carry WGS 84 and the SWEREF 99 srid the caller asks for.
"""
