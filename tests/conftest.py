from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def examples() -> Path:
    return ROOT / "examples"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def hub_ahs_example() -> dict[str, Any]:
    """The Hub's Aws_AHS_JobInput example as the Hub publishes it (three atoms, a Rabi
    pulse, a detuning sweep, a local detuning); a fresh copy for each test."""
    document: dict[str, Any] = json.loads((DATA / "hub_ahs_example.json").read_text())
    return document
