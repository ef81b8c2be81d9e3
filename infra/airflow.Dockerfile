# The sohoa Airflow image: Airflow 3.3.0 with CeleryExecutor, sohoa (core, OCR engine, DAGs, plugins) and
# Tesseract with the Vietnamese and orientation data. One image for every Airflow component and worker,
# used by infra/compose.yaml and by the official Airflow Helm chart (infra/helm/values.yaml).
#
#   docker build -f infra/airflow.Dockerfile -t sohoa-airflow:0.1.0 .
#
# Built from uv.lock, not from Airflow's constraint files: the image runs exactly the versions that the
# tests ran and that `make audit` checked. The DAGs are baked in (/opt/sohoa/dags): a new release of sohoa
# is a new image tag, and the scheduler, the DAG processor and every worker see the same code.
FROM python:3.11-slim-bookworm

ARG AIRFLOW_UID=50000
ARG UV_VERSION=0.13.9

ENV AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/sohoa/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/sohoa/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    PYTHONPATH=/opt/sohoa \
    PYTHONUNBUFFERED=1 \
    # Tesseract is 5-6 times slower per page with OpenMP threads: one thread, pages in parallel processes.
    OMP_THREAD_LIMIT=1 \
    UV_PROJECT_ENVIRONMENT=/opt/sohoa/.venv \
    UV_LINK_MODE=copy \
    PATH=/opt/sohoa/.venv/bin:$PATH

# System packages: Tesseract with `vie` and `osd` (what ocr/ needs), fonts, libpq, tini as PID 1.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-vie tesseract-ocr-osd fonts-dejavu-core libpq5 tini ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir "uv==${UV_VERSION}"

WORKDIR /opt/sohoa
# Dependencies first (a layer that changes only with the lock), then the project.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY sohoa ./sohoa
COPY ocr ./ocr
COPY dags ./dags
COPY plugins ./plugins
COPY schemas ./schemas
RUN uv sync --frozen --no-dev \
 && tesseract --list-langs | grep -qx vie \
 && tesseract --list-langs | grep -qx osd

# The user the official chart expects (uid 50000, group 0), owning AIRFLOW_HOME (logs).
RUN useradd --uid "${AIRFLOW_UID}" --gid 0 --home-dir /opt/airflow --create-home --shell /bin/bash airflow \
 && mkdir -p /opt/airflow/logs && chown -R "${AIRFLOW_UID}:0" /opt/airflow && chmod -R g+rwX /opt/airflow
USER ${AIRFLOW_UID}
WORKDIR /opt/airflow

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["airflow", "version"]
