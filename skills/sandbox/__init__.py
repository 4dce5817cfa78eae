"""The sandbox third-party skills run in: a separate process under bubblewrap.

``steps`` is the host side (the stand-ins ``skills.catalog.step_functions`` hands out for an
installed or dev skill's steps), ``bubblewrap`` builds the sandbox and its limits, ``protocol``
is what crosses the pipe between them, and ``child`` runs inside: it imports the skill's
``steps.py`` and runs one step, its workspace calls relayed to the host as JSON lines.
"""
