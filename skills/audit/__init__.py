"""What a security audit checks, as plain functions over a project folder.

The ``security-audit`` skill's steps call these; so do ``skillworks advisories update`` and
``import`` (``advisory_import``), and the marketplace's upload scan (``secrets.scan_secrets``).
One module or package per kind of check: ``dependencies`` (manifests and lockfiles against OSV
advisories, ``end_of_life`` release lines, ``npm_audit`` when npm is installed), ``secrets``
(the built-in secret engine, trufflehog when installed), ``code`` (bandit, JS/TS rules),
``permissions``; ``report`` turns their findings into JSON and SARIF. Nothing here writes to
the scanned project.
"""
