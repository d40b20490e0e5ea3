"""The import-linter contracts in setup.cfg hold: which package may import which is checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = [
    "Dependencies point inwards: entrypoints -> adapters -> booking",
    "The booking domain imports no framework, database, queue or payment library",
    "Adapters never import entrypoints",
    "Adapter packages by port",
    "Entrypoints around one composition root",
]


def test_every_layering_contract_is_checked_and_kept() -> None:
    linter = Path(sys.executable).with_name("lint-imports")

    result = subprocess.run(  # noqa: S603 - the linter installed next to this interpreter
        [str(linter), "--config", "setup.cfg", "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )

    report = " ".join(result.stdout.split())  # the linter wraps long names over lines
    assert result.returncode == 0, result.stdout + result.stderr
    for name in CONTRACTS:
        assert name in report, f"contract not checked: {name}"
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in report
