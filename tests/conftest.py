"""Shared fixtures: paths to the demo and to committed fixtures, a fresh project copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A copy of the demo project in a temporary folder, writing its outputs there too."""
    dest = tmp_path / "demo"
    shutil.copytree(DEMO, dest)
    toml = dest / "mapper.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('output = "outputs"', 'output = "out"'),
        encoding="utf-8",
    )
    return toml
