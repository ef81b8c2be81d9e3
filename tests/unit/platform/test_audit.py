"""``make audit`` (infra/audit.py): pip-audit's outcomes are told apart without any network.

The reports and errors below are the shapes pip-audit 2.10 writes: a JSON ``dependencies`` list whose
entries carry ``vulns`` or a ``skip_reason``, or a traceback on stderr when a service cannot be reached.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _load_audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sohoa_infra_audit", ROOT / "infra" / "audit.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


audit = _load_audit()


def _report(*deps: dict[str, object]) -> str:
    return json.dumps({"dependencies": list(deps), "fixes": []})


CLEAN_DEP = {"name": "httpx", "version": "0.28.1", "vulns": []}
VULN_DEP = {
    "name": "jinja2",
    "version": "3.1.2",
    "vulns": [
        {"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": ["CVE-2024-22195"], "description": "..."}
    ],
}


def _skipped(name: str) -> dict[str, object]:
    return {"name": name, "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} (1.0)"}


def test_a_known_vulnerability_fails() -> None:
    verdict = audit.classify("pypi", 1, _report(CLEAN_DEP, VULN_DEP), "Found 1 known vulnerability in 1 package")
    assert verdict.kind == audit.VULNERABLE
    assert audit.EXIT[verdict.kind] == 1
    assert verdict.findings == (audit.Finding("jinja2", "3.1.2", "GHSA-h5c8-rqwp-cp95", ("3.1.3",)),)
    assert "GHSA-h5c8-rqwp-cp95" in audit.describe(verdict)


def test_no_vulnerability_is_clean() -> None:
    verdict = audit.classify("osv", 0, _report(CLEAN_DEP, {**CLEAN_DEP, "name": "rich"}), "")
    assert (verdict.kind, verdict.audited) == (audit.CLEAN, 2)
    assert audit.EXIT[verdict.kind] == 0


def test_pypi_answering_404_for_every_package_is_unreachable_not_clean() -> None:
    """What pip-audit does here: every package skipped, "No known vulnerabilities found", status 0."""
    verdict = audit.classify(
        "pypi", 0, _report(_skipped("a2wsgi"), _skipped("httpx")), "No known vulnerabilities found"
    )
    assert verdict.kind == audit.UNREACHABLE
    assert verdict.skipped == ("a2wsgi", "httpx")
    assert "pypi.org" in audit.describe(verdict)


def test_a_few_skipped_packages_leave_the_rest_audited() -> None:
    verdict = audit.classify("pypi", 0, _report(CLEAN_DEP, _skipped("private-wheel")), "")
    assert verdict.kind == audit.CLEAN
    assert verdict.skipped == ("private-wheel",)
    assert "private-wheel" in audit.describe(verdict)


def test_a_vulnerability_wins_over_skipped_packages() -> None:
    verdict = audit.classify("pypi", 1, _report(VULN_DEP, _skipped("x")), "")
    assert verdict.kind == audit.VULNERABLE


OSV_UNREACHABLE = """Traceback (most recent call last):
  File ".../requests/adapters.py", line 729, in send
    raise ConnectionError(e, request=request)
requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev', port=443): Max retries exceeded with \
url: /v1/query (Caused by NameResolutionError("Failed to resolve 'api.osv.dev'"))
"""


def test_osv_unreachable_is_told_apart_from_a_finding() -> None:
    verdict = audit.classify("osv", 1, None, OSV_UNREACHABLE)
    assert verdict.kind == audit.UNREACHABLE
    assert "api.osv.dev" in audit.describe(verdict)


def test_any_other_failure_of_pip_audit_is_an_error() -> None:
    verdict = audit.classify("pypi", 1, None, "ERROR: invalid requirement: 'foo==='")
    assert verdict.kind == audit.ERROR
    assert audit.EXIT[verdict.kind] == 2


def test_main_warns_loudly_and_passes_when_no_service_answers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    asked: list[str] = []

    def fake_run(_requirements: Path, service: str, _workdir: Path) -> object:
        asked.append(service)
        return audit.Verdict(audit.UNREACHABLE, service, detail="no answer")

    monkeypatch.setattr(audit, "run_pip_audit", fake_run)
    requirements = tmp_path / "r.txt"
    requirements.write_text("httpx==0.28.1\n")
    monkeypatch.delenv("SOHOA_AUDIT_STRICT", raising=False)
    assert audit.main(["--requirements", str(requirements)]) == 0
    assert asked == ["pypi", "osv"]  # PyPI first, then OSV
    err = capsys.readouterr().err
    assert "DID NOT RUN" in err
    assert "pypi.org" in err
    assert "api.osv.dev" in err
    monkeypatch.setenv("SOHOA_AUDIT_STRICT", "1")
    assert audit.main(["--requirements", str(requirements)]) == audit.STRICT_UNREACHABLE_EXIT


def test_main_stops_at_the_first_service_that_answers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    verdicts = {
        "pypi": audit.Verdict(audit.UNREACHABLE, "pypi"),
        "osv": audit.Verdict(audit.VULNERABLE, "osv", findings=(audit.Finding("a", "1", "X-1", ()),)),
    }
    monkeypatch.setattr(audit, "run_pip_audit", lambda _r, service, _w: verdicts[service])
    requirements = tmp_path / "r.txt"
    requirements.write_text("a==1\n")
    assert audit.main(["--requirements", str(requirements)]) == 1
