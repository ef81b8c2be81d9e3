"""Entry point of a records worker process: ``python -m sohoa.intake.records_worker`` (see
:mod:`sohoa.intake.records_parallel`, which starts it). A module of its own, so that what the worker sends
back is pickled under the names the loader's process knows, not under ``__main__``."""

from sohoa.intake.records_parallel import worker_main

if __name__ == "__main__":
    worker_main()
