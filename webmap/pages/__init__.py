"""HTML pages for people: the map viewer, the widget with its demo e-service and embed page, the
staff login. Templates and static files are the app's (``webmap/templates``, ``webmap/static``)."""
