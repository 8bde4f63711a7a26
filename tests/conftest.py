"""Shared pytest configuration: float64 by default for oracle-grade checks, one torch thread."""

from __future__ import annotations

import torch

torch.set_num_threads(1)


class FaultLedger:
    """Counts what the fault-injection and bad-input suites tried and how each ended, for the
    figures printed at the end of the run (``faults injected ... nothing lost``)."""

    def __init__(self) -> None:
        self.faults = 0
        self.faults_nothing_lost = 0
        self.bad_inputs = 0
        self.bad_inputs_nothing_lost = 0

    def fault(self, nothing_lost: bool) -> None:
        self.faults += 1
        self.faults_nothing_lost += bool(nothing_lost)

    def bad_input(self, nothing_lost: bool) -> None:
        self.bad_inputs += 1
        self.bad_inputs_nothing_lost += bool(nothing_lost)


LEDGER = FaultLedger()


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest hook
    if LEDGER.faults or LEDGER.bad_inputs:
        terminalreporter.write_line(
            f"fault injection: {LEDGER.faults} faults injected, {LEDGER.faults_nothing_lost} "
            f"ended with nothing lost; {LEDGER.bad_inputs} bad inputs tried, "
            f"{LEDGER.bad_inputs_nothing_lost} refused with one line and nothing lost")
