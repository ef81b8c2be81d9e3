"""Publishing the "1 có" dataset: Parquet snapshots with a manifest, the data contract, the national-portal
projection. The entry point for the CLI, the DAG and the demo is :func:`sohoa.publish.snapshot.publish`."""
