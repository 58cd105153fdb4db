"""The kinds of resource the sweep knows, in deletion order: one row per kind, naming its finder and deleter
from the service's module in :mod:`fargate_harness.cleanup.finders`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fargate_harness.cleanup.finders import (
    autoscaling,
    cloudwatch,
    dynamodb,
    ec2,
    ecr,
    ecs,
    efs,
    elbv2,
    iam,
    kms,
    logs,
    s3,
    secretsmanager,
    servicediscovery,
    ssm,
)
from fargate_harness.cleanup.finders.common import Found

Finder = Callable[[Any], Iterable[Found]]
Deleter = Callable[[Any, str], None]
#: Deletes several resources at once; returns identifier -> error for those that failed.
BatchDeleter = Callable[[Any, Sequence[str]], dict[str, str]]


@dataclass(frozen=True)
class Kind:
    """One kind of resource the sweep knows: its name in reports, boto3 service, finder and deleter.

    ``arn_types`` are the ``<service>:<resource type>`` of its ARNs as the Tagging API reports them, so
    that tagged resources of those types are not reported as having no deleter.
    """

    name: str
    service: str
    find: Finder
    delete: Deleter | None = None
    delete_batch: BatchDeleter | None = None
    arn_types: tuple[str, ...] = ()


#: The kinds in deletion order: whatever references something else goes before it (scaling before the
#: services they scale, services before clusters, target groups and security groups; load balancers and
#: mount targets before security groups and subnets; everything that may reference a role before roles).
KINDS: tuple[Kind, ...] = (
    Kind(
        "scaling-policy",
        "application-autoscaling",
        autoscaling.find_scaling_policies,
        autoscaling.delete_scaling_policy,
    ),
    Kind(
        "scalable-target",
        "application-autoscaling",
        autoscaling.find_scalable_targets,
        autoscaling.delete_scalable_target,
    ),
    Kind(
        "cloudwatch-alarm",
        "cloudwatch",
        cloudwatch.find_alarms,
        delete_batch=cloudwatch.delete_alarms,
        arn_types=("cloudwatch:alarm",),
    ),
    Kind("ecs-service", "ecs", ecs.find_services, ecs.delete_service, arn_types=("ecs:service", "ecs:task")),
    Kind(
        "discovery-service",
        "servicediscovery",
        servicediscovery.find_discovery_services,
        servicediscovery.delete_discovery_service,
    ),
    Kind(
        "discovery-namespace", "servicediscovery", servicediscovery.find_namespaces, servicediscovery.delete_namespace
    ),
    Kind(
        "ecs-task-definition",
        "ecs",
        ecs.find_task_definitions,
        ecs.delete_task_definition,
        arn_types=("ecs:task-definition",),
    ),
    Kind("ecs-cluster", "ecs", ecs.find_clusters, ecs.delete_cluster, arn_types=("ecs:cluster",)),
    Kind(
        "elb-listener",
        "elbv2",
        elbv2.find_listeners,
        elbv2.delete_listener,
        arn_types=("elasticloadbalancing:listener",),
    ),
    Kind(
        "load-balancer",
        "elbv2",
        elbv2.find_load_balancers,
        elbv2.delete_load_balancer,
        arn_types=("elasticloadbalancing:loadbalancer",),
    ),
    Kind(
        "target-group",
        "elbv2",
        elbv2.find_target_groups,
        elbv2.delete_target_group,
        arn_types=("elasticloadbalancing:targetgroup",),
    ),
    Kind(
        "efs-access-point",
        "efs",
        efs.find_access_points,
        efs.delete_access_point,
        arn_types=("elasticfilesystem:access-point",),
    ),
    Kind("efs-mount-target", "efs", efs.find_mount_targets, efs.delete_mount_target),
    Kind(
        "efs-file-system",
        "efs",
        efs.find_file_systems,
        efs.delete_file_system,
        arn_types=("elasticfilesystem:file-system",),
    ),
    Kind("ecr-repository", "ecr", ecr.find_repositories, ecr.delete_repository, arn_types=("ecr:repository",)),
    Kind("log-group", "logs", logs.find_log_groups, logs.delete_log_group, arn_types=("logs:log-group",)),
    Kind(
        "secret",
        "secretsmanager",
        secretsmanager.find_secrets,
        secretsmanager.delete_secret,
        arn_types=("secretsmanager:secret",),
    ),
    Kind("ssm-parameter", "ssm", ssm.find_parameters, delete_batch=ssm.delete_parameters, arn_types=("ssm:parameter",)),
    Kind("kms-key", "kms", kms.find_keys, kms.delete_key, arn_types=("kms:key", "kms:alias")),
    Kind("s3-bucket", "s3", s3.find_buckets, s3.delete_bucket, arn_types=("s3",)),
    Kind("dynamodb-table", "dynamodb", dynamodb.find_tables, dynamodb.delete_table, arn_types=("dynamodb:table",)),
    Kind(
        "security-group",
        "ec2",
        ec2.find_security_groups,
        delete_batch=ec2.delete_security_groups,
        arn_types=("ec2:security-group",),
    ),
    Kind("subnet", "ec2", ec2.find_subnets, ec2.delete_subnet, arn_types=("ec2:subnet",)),
    Kind("route-table", "ec2", ec2.find_route_tables, ec2.delete_route_table, arn_types=("ec2:route-table",)),
    Kind(
        "internet-gateway",
        "ec2",
        ec2.find_internet_gateways,
        ec2.delete_internet_gateway,
        arn_types=("ec2:internet-gateway",),
    ),
    Kind("vpc", "ec2", ec2.find_vpcs, ec2.delete_vpc, arn_types=("ec2:vpc",)),
    Kind("iam-role", "iam", iam.find_roles, iam.delete_role, arn_types=("iam:role",)),
    Kind("iam-policy", "iam", iam.find_policies, iam.delete_policy, arn_types=("iam:policy",)),
)
