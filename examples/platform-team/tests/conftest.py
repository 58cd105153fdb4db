"""The fargate-harness plugin registers itself (pytest11 entry point); nothing to wire here.

Shared values for the tests of this repository live here.
"""

from __future__ import annotations

from pathlib import Path

INFRA = Path(__file__).resolve().parents[1] / "infra"
