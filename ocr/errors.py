"""What can go wrong, by category, each with a message that says how to fix it.

Every error names the file (its base name only) and the reason; none ever contains document text. The
categories decide what the caller does (see ARCHITECTURE.md, "Errors are classified in the core"):

- :class:`BadInput` and its subclasses: the file itself is the problem. Quarantine it, do not retry.
- :class:`MissingDependency`: this machine lacks Tesseract or a language. Fail fast; the message has the
  install command.

A page that Tesseract cannot finish in time is not an error: it becomes an empty page with a warning.
"""

from __future__ import annotations

from pathlib import Path

APT_INSTALL = "apt-get install tesseract-ocr tesseract-ocr-vie tesseract-ocr-osd"


class OcrError(Exception):
    """Base class of every error the ``ocr`` package raises on purpose.

    Attributes:
        category: a stable machine-readable word for the kind of failure.
        exit_code: what a command line should exit with.
        name: the base name of the file concerned ("" when none).
        reason: what is wrong, in one sentence.
        fix: what the user can do about it.
    """

    category = "error"
    exit_code = 1
    default_fix = ""

    def __init__(self, name: str | Path, reason: str, fix: str | None = None) -> None:
        self.name = Path(name).name if str(name) else ""
        self.reason = reason
        self.fix = self.default_fix if fix is None else fix
        prefix = f"{self.name}: " if self.name else ""
        suffix = f" ({self.fix})" if self.fix else ""
        super().__init__(f"{prefix}{reason}{suffix}")

    def __reduce__(self) -> tuple[type[OcrError], tuple[str, str, str]]:
        # Errors cross process boundaries (page workers): rebuild from the fields, not the message.
        return (type(self), (self.name, self.reason, self.fix))


class BadInput(OcrError):
    """The file cannot be processed as it is; retrying will not help."""

    category = "bad_input"
    exit_code = 2
    default_fix = "scan or export the document again"


class UnsupportedType(BadInput):
    """The bytes are not a PDF, TIFF, JPEG or PNG (whatever the file name says)."""

    category = "unsupported_type"
    default_fix = "send a PDF, TIFF, JPEG or PNG file"


class EncryptedDocument(BadInput):
    """A PDF that needs a password to open."""

    category = "encrypted"
    default_fix = "remove the password (print to PDF or save an unprotected copy) and send it again"


class CorruptDocument(BadInput):
    """The file is damaged or truncated."""

    category = "unreadable"
    default_fix = "the file is damaged or was cut short; upload or scan it again"


class EmptyDocument(BadInput):
    """Zero bytes, or a document without pages."""

    category = "empty"
    default_fix = "the file has nothing in it; upload the scan again"


class TooLarge(BadInput):
    """Over a configured limit of bytes, pages or megapixels per page."""

    category = "too_large"
    default_fix = "split the document or scan it at 200-300 dpi"


class MissingDependency(OcrError):
    """Tesseract or one of its languages is not installed on this machine."""

    category = "missing_dependency"
    exit_code = 3
    default_fix = f"install it with: {APT_INSTALL}"
