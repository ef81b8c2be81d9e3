"""``make audit``: pip-audit of the locked dependencies, telling "vulnerable" apart from "could not ask".

    uv run python infra/audit.py                  # PyPI's advisory data, then OSV if PyPI gives none
    uv run python infra/audit.py --service osv    # one service only
    SOHOA_AUDIT_STRICT=1 uv run python infra/audit.py   # "could not ask" fails too (networked CI)

Steps: ``uv export --frozen --no-hashes`` writes every locked package (all groups, without sohoa itself)
as pinned requirements; ``pip-audit -r ... --disable-pip --no-deps --format json`` (run with ``uvx``, a
pinned version, so it never enters sohoa's own environment) looks each pinned version up.

Why the classification: pip-audit's exit status alone misleads in both directions. Against PyPI, a
service that answers 404 for every per-version JSON page (``/pypi/<name>/<version>/json``, as on the
machines this project is built on) makes pip-audit skip every package and still print "No known
vulnerabilities found" with status 0; against OSV, an unreachable ``api.osv.dev`` is a traceback and
status 1, the same status as a real finding. So the JSON report is read:

- a package with a known vulnerability: status 1, each one listed with its fixed versions;
- no report, and pip-audit's error is a network failure; or every package skipped: the service could
  not be asked. A loud warning that names the service, and status 0 (status 3 with
  ``SOHOA_AUDIT_STRICT=1``), so that CI without network stays green while CI with network stays
  meaningful;
- any other failure of pip-audit: status 2 with its error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PIP_AUDIT = "pip-audit==2.10.1"
ROOT = Path(__file__).resolve().parents[1]
SERVICE_HOSTS = {"pypi": "pypi.org (per-version JSON API)", "osv": "api.osv.dev"}

CLEAN, VULNERABLE, UNREACHABLE, ERROR = "clean", "vulnerable", "unreachable", "error"
EXIT = {CLEAN: 0, VULNERABLE: 1, ERROR: 2, UNREACHABLE: 0}
STRICT_UNREACHABLE_EXIT = 3

# What requests/urllib3 say when a service cannot be reached (pip-audit then ends with a traceback).
_NETWORK_ERROR = re.compile(
    r"ConnectionError|NameResolutionError|Failed to resolve|Max retries exceeded|Connection refused|"
    r"Connection reset|Read timed out|ConnectTimeout|ReadTimeout|Temporary failure in name resolution|"
    r"Network is unreachable|No route to host|ServiceError|SSLError|HTTPError: 5\d\d|status code 5\d\d",
)


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    vuln_id: str
    fix_versions: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """What one pip-audit run established."""

    kind: str
    service: str
    audited: int = 0
    skipped: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    detail: str = ""
    notes: list[str] = field(default_factory=list)


def classify(service: str, returncode: int, report: str | None, stderr: str) -> Verdict:
    """Turn pip-audit's exit status, JSON report (None if it wrote none) and stderr into a verdict."""
    data = None
    if report:
        try:
            data = json.loads(report)
        except ValueError:
            data = None
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        if _NETWORK_ERROR.search(stderr):
            return Verdict(UNREACHABLE, service, detail=_last_line(stderr))
        return Verdict(ERROR, service, detail=_last_line(stderr) or f"pip-audit exited with status {returncode}")
    dependencies = [d for d in data["dependencies"] if isinstance(d, dict)]
    skipped = tuple(sorted(str(d.get("name")) for d in dependencies if d.get("skip_reason")))
    findings = tuple(
        Finding(str(d.get("name")), str(d.get("version")), str(v.get("id")), tuple(v.get("fix_versions") or ()))
        for d in dependencies
        for v in (d.get("vulns") or ())
    )
    audited = len(dependencies) - len(skipped)
    if findings:
        return Verdict(VULNERABLE, service, audited, skipped, findings)
    if dependencies and audited == 0:
        reasons = {str(d.get("skip_reason")).split(":")[0] for d in dependencies}
        return Verdict(UNREACHABLE, service, 0, skipped, detail="; ".join(sorted(reasons)))
    if returncode != 0:
        return Verdict(ERROR, service, audited, skipped, detail=_last_line(stderr))
    return Verdict(CLEAN, service, audited, skipped)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:400] if lines else ""


def export_requirements(destination: Path) -> None:
    """Every locked package, pinned, without sohoa itself (it is not on any advisory service)."""
    subprocess.run(
        [
            "uv",
            "export",
            "--frozen",
            "--no-hashes",
            "--no-emit-project",
            "--all-groups",
            "--format",
            "requirements-txt",
            "--output-file",
            str(destination),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )


def run_pip_audit(requirements: Path, service: str, workdir: Path) -> Verdict:
    report = workdir / f"pip-audit-{service}.json"
    done = subprocess.run(
        [
            "uvx",
            "--from",
            PIP_AUDIT,
            "pip-audit",
            "--requirement",
            str(requirements),
            "--disable-pip",
            "--no-deps",
            "--vulnerability-service",
            service,
            "--format",
            "json",
            "--output",
            str(report),
            "--progress-spinner",
            "off",
            "--timeout",
            "20",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    text = report.read_text() if report.exists() else None
    return classify(service, done.returncode, text, done.stderr)


def describe(verdict: Verdict) -> str:
    where = SERVICE_HOSTS.get(verdict.service, verdict.service)
    if verdict.kind == VULNERABLE:
        rows = [
            f"  {f.package} {f.version}: {f.vuln_id} (fixed in {', '.join(f.fix_versions) or 'no release yet'})"
            for f in verdict.findings
        ]
        return f"audit: {len(verdict.findings)} known vulnerabilities (data: {where}):\n" + "\n".join(rows)
    if verdict.kind == UNREACHABLE:
        skipped = f"all {len(verdict.skipped)} packages skipped" if verdict.skipped else "no report"
        return f"audit: could not get vulnerability data from {where}: {verdict.detail or 'no answer'} ({skipped})"
    if verdict.kind == ERROR:
        return f"audit: pip-audit failed with {where}: {verdict.detail}"
    extra = f"; {len(verdict.skipped)} not found there: {', '.join(verdict.skipped)}" if verdict.skipped else ""
    return f"audit: {verdict.audited} locked packages, no known vulnerabilities (data: {where}){extra}"


def warn_unreachable(verdicts: list[Verdict]) -> None:
    names = " and ".join(SERVICE_HOSTS.get(v.service, v.service) for v in verdicts)
    bar = "!" * 78
    print(
        f"\n{bar}\nWARNING: THE DEPENDENCY AUDIT DID NOT RUN: no vulnerability data could be fetched from\n"
        f"{names}.\nNothing was checked; this is not a clean result. Run `make audit` where those services\n"
        f"answer (SOHOA_AUDIT_STRICT=1 makes this a failure).\n{bar}",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--service",
        choices=("pypi", "osv"),
        action="append",
        help="vulnerability service(s) to ask, in order (default: pypi, then osv)",
    )
    parser.add_argument("--requirements", type=Path, help="audit this requirements file instead of the lock")
    args = parser.parse_args(argv)
    services = args.service or ["pypi", "osv"]
    strict = os.environ.get("SOHOA_AUDIT_STRICT", "").lower() in {"1", "true", "yes"}
    with tempfile.TemporaryDirectory(prefix="sohoa-audit-") as tmp:
        workdir = Path(tmp)
        requirements = args.requirements or workdir / "requirements.txt"
        if args.requirements is None:
            export_requirements(requirements)
        unreachable: list[Verdict] = []
        for service in services:
            verdict = run_pip_audit(requirements, service, workdir)
            print(describe(verdict), file=sys.stderr if verdict.kind != CLEAN else sys.stdout)
            if verdict.kind != UNREACHABLE:
                return EXIT[verdict.kind]
            unreachable.append(verdict)
    warn_unreachable(unreachable)
    return STRICT_UNREACHABLE_EXIT if strict else EXIT[UNREACHABLE]


if __name__ == "__main__":
    sys.exit(main())
