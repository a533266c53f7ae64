"""``ser-report``: a finished call's timeline (and, if given, its audio) as a picture or a
self-contained HTML page. Needs matplotlib (the ``plots`` extra); the live path never imports it."""
