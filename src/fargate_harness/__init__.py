"""Terratest-style integration harness for the IAM roles of ECS Fargate tasks."""

from __future__ import annotations

__version__ = "0.1.0"
