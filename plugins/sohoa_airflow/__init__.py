"""Airflow-facing code of sohoa: Connections to settings, sohoa errors to task states, the plugin."""
