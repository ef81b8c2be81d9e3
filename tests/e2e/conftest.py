"""Fixtures of the end-to-end modules (defined in e2e_airflow.py, which the modules also import from)."""

from e2e_airflow import airflow_env

__all__ = ["airflow_env"]
