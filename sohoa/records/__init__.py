"""Parsing and validation of dossier-record batches (the input contract's ``records/`` keys).

Pure Python: bytes in, :class:`~sohoa.records.model.RecordLine` values out, no I/O and no database.
The entry point is :func:`sohoa.records.parse.read_batch`; the catalogues are read by
:mod:`sohoa.records.catalogue`.
"""

from __future__ import annotations
