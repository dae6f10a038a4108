"""A program's own gates named like standard ones: the matrix comparison that decides
whether a call *is* the standard gate (and with which global phase)."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import Operator

from qbroker.formats._lookalikes import _small_unitary


@pytest.mark.parametrize("seed", range(40))
def test_small_unitary_is_qiskits_operator(seed: int) -> None:
    n = 1 + seed % 4
    circuit = random_circuit(n, 6, max_operands=min(3, n), seed=seed)
    circuit.global_phase = 0.37 * seed
    mine = _small_unitary(circuit)
    assert mine is not None
    assert np.allclose(mine, Operator(circuit).data, rtol=0, atol=1e-12)


def test_small_unitary_declines_what_it_cannot_build() -> None:
    from qiskit.circuit import Parameter

    unbound = QuantumCircuit(1)
    unbound.rx(Parameter("t"), 0)
    assert _small_unitary(unbound) is None
    too_wide = QuantumCircuit(6)
    too_wide.h(0)
    assert _small_unitary(too_wide) is None
