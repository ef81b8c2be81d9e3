"""Generated sample data for ``sohoa demo``, tests and benchmarks: catalogues, dossier-record batches and
scanned documents.

Everything here is invented: names, identity numbers and tax codes are well-formed but belong to no one,
and the procedure and agency codes only look like the national ones.
"""

from __future__ import annotations
