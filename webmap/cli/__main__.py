"""``python -m webmap.cli``: the ``webmap`` command (the production server starts gunicorn so)."""

from webmap.cli import main

main()
