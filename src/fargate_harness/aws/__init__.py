"""Readers (``get_*``) and checks (``assert_*``) for the AWS resources of an ECS Fargate task.

Import the submodules directly (``from fargate_harness.aws import iam``); nothing is re-exported here.
"""
