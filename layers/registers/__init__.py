"""National registers (Lantmäteriet\x27s open address product): layout, reading, test files."""
