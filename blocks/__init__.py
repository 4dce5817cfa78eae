"""Prefect Block types holding skillworks' configuration, and the one module that reads settings."""
