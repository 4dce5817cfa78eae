"""What a skill is, the built-in skills, and everything that runs without Prefect:
parameters and validation, environment checks, the workspace and its journal, the dry run.

This package never imports Prefect, so a skill can be written and tested without a server.
"""
