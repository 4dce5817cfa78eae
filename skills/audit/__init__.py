"""What a security audit checks, as plain functions over a project folder.

The ``security-audit`` skill's steps call these; so does ``skillworks advisories update``
(``advisories.advisories_update_main``). Each module is one kind of check: ``dependencies``
(manifests and lockfiles against OSV advisories), ``secrets``, ``permissions``; ``report``
turns their findings into JSON and SARIF. Nothing here writes to the scanned project.
"""
