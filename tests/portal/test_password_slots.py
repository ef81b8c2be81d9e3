"""Sign-in storms: no more argon2 hashes at once than cores (each holds 64 MiB while it runs)."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from sohoa.portal import passwords


class CountingHasher:
    """Stands in for argon2's hasher and records how many hashes ran at the same time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def _work(self) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)
        with self.lock:
            self.running -= 1

    def hash(self, password: str) -> str:
        self._work()
        return "$argon2id$fake"

    def verify(self, stored_hash: str, password: str) -> bool:
        self._work()
        return True

    def check_needs_rehash(self, stored_hash: str) -> bool:
        return False


def test_fifty_sign_ins_at_once_hash_no_more_than_one_per_core(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = CountingHasher()
    monkeypatch.setattr(passwords, "_hasher", fake)
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda i: passwords.verify("$argon2id$stored", f"mat-khau-{i}"), range(40)))
        list(pool.map(lambda i: passwords.hash_password(f"mat-khau-moi-{i}"), range(10)))
    assert results == [(True, False)] * 40
    assert 1 <= fake.most <= (os.cpu_count() or 1)


def test_real_hashes_still_verify() -> None:
    stored = passwords.hash_password("mat-khau-2026")
    assert passwords.verify(stored, "mat-khau-2026") == (True, False)
    assert passwords.verify(stored, "sai-mat-khau") == (False, False)
