"""sohoa's OCR engine: PDF, TIFF, JPEG and PNG scans to text, a searchable PDF and per-page figures.

Pure functions on files and images; nothing here knows about sohoa, storage or Airflow.

- :func:`sniff` tells a file's type from its bytes; :func:`inspect` counts and sizes its pages and
  enforces the limits, before any pixel is decoded (intake calls it before storing a file);
- :func:`ocr_file` writes ``text.txt``, ``searchable.pdf`` and ``pages.json`` (see the ``sohoa ocr``
  section of the output contract) and returns an :class:`OcrResult`.

Errors are in :mod:`ocr.errors`: :class:`~ocr.errors.BadInput` (quarantine the file, do not retry) and
:class:`~ocr.errors.MissingDependency` (install Tesseract; the message says how). Logging goes to loggers
named ``ocr.*`` and never carries document text.
"""

from __future__ import annotations

from ocr.errors import BadInput, MissingDependency, OcrError
from ocr.models import DocumentInfo, Limits, OcrOptions, OcrResult, PageInfo, PageResult
from ocr.pipeline import ocr_file
from ocr.triage import inspect, sniff

__all__ = [
    "BadInput",
    "DocumentInfo",
    "Limits",
    "MissingDependency",
    "OcrError",
    "OcrOptions",
    "OcrResult",
    "PageInfo",
    "PageResult",
    "inspect",
    "ocr_file",
    "sniff",
]
