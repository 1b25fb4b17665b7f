"""``python -m webmap.cli``: the ``webmap`` command (the production server starts the app so)."""

from webmap.cli import main

main()
