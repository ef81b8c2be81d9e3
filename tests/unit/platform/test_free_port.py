"""Ports for throwaway services (tests, benchmarks, the chaos suite) stay out of the ephemeral range."""

from __future__ import annotations

import socket

import pytest

from sohoa.services import processes
from sohoa.services.processes import _ephemeral_range, free_port


def test_a_free_port_is_bindable_and_below_the_ephemeral_range() -> None:
    ephemeral = _ephemeral_range()
    for _ in range(20):
        port = free_port()
        assert port not in ephemeral
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_in_use_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", free_port()))
        held.listen()
        taken = held.getsockname()[1]
        # start the search at the taken port: the next free one is handed out instead
        monkeypatch.setattr(processes.random, "randrange", lambda _n: processes._SCRATCH_PORTS.index(taken))
        port = free_port()
        assert port != taken
        assert port in processes._SCRATCH_PORTS
