# sohoa: the two commands of the quick start are `make demo` and `make test`.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
RUN := uv run --frozen

.PHONY: bootstrap demo test test-unit test-heavy up down status format lint audit chaos

bootstrap:  ## system packages, uv and the locked environment
	@infra/bootstrap.sh

demo: bootstrap  ## services up, a generated sample batch, a full run through Airflow, a summary
	@$(RUN) sohoa demo

test: bootstrap  ## the whole suite: unit, integration (real PostgreSQL, S3, Tesseract), DAGs, end to end
	@$(RUN) pytest

chaos: bootstrap  ## fault injection: S3 server killed, PostgreSQL restarted, OCR worker killed, disk full
	@$(RUN) pytest tests/chaos -m chaos -s

test-heavy: bootstrap  ## the end-to-end runs of many minutes: CeleryExecutor with two workers, hostile files via Airflow
	@$(RUN) pytest -m heavy

test-unit: bootstrap
	@$(RUN) pytest tests/unit tests/dags

up: bootstrap
	@$(RUN) sohoa services up

down:
	@$(RUN) sohoa services down

status:
	@$(RUN) sohoa services status

format: bootstrap  ## ruff format over the code (make lint checks it)
	@$(RUN) ruff format sohoa ocr dags plugins tests bench infra
	@$(RUN) ruff check --fix .

lint: bootstrap
	@$(RUN) ruff check .
	@$(RUN) ruff format --check sohoa ocr dags plugins tests bench infra
	@$(RUN) mypy

audit:  ## pip-audit of uv.lock; fails on a known vulnerability, warns loudly if no advisory service answers
	@$(RUN) python infra/audit.py
