"""The read API of the "1 có" dataset (FastAPI): :func:`sohoa.api.app.create_app`, tokens in
:mod:`sohoa.api.tokens`. Started by ``sohoa api``."""
