"""Installing marketplace skills: checks, conflicts, each skill's own environments, and the swap into place.

``install`` is the order of things; ``conflicts`` what is refused before anything is
installed; ``environments`` the skill's venv (uv) and npm folder.
"""
