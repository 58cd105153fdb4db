"""Sweep finders and deleters for EC2 networking: security groups, subnets, route tables, internet gateways and VPCs.

Each finder lists every resource of its kind with its tags and names (:class:`~.common.Found`); each deleter
removes one (or a batch). The order they run in is :data:`fargate_harness.cleanup.kinds.KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from fargate_harness.cleanup.finders.common import (
    Found,
    describe_error,
    key_value,
    name_tag,
    pages,
    retry_while,
)


def _ec2_arn(ec2: Any, kind: str, identifier: str, owner: str = "") -> str:
    return f"arn:aws:ec2:{ec2.meta.region_name}:{owner}:{kind}/{identifier}"


def find_security_groups(ec2: Any) -> Iterator[Found]:
    """Security groups other than each VPC's ``default`` group, with their tags."""
    for page in pages(ec2, "describe_security_groups"):
        for group in page.get("SecurityGroups", []):
            if group.get("GroupName") == "default":
                continue
            yield Found(
                group["GroupId"],
                key_value(group.get("Tags", [])),
                names=(group.get("GroupName", ""), *name_tag(group.get("Tags"))),
                arn=_ec2_arn(ec2, "security-group", group["GroupId"], group.get("OwnerId", "")),
            )


def _referencing(permissions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rules that name another security group, as RevokeSecurityGroup* takes them."""
    return [
        {key: value for key, value in rule.items() if value not in ([], None)}
        for rule in permissions
        if rule.get("UserIdGroupPairs")
    ]


def delete_security_groups(ec2: Any, group_ids: Sequence[str]) -> dict[str, str]:
    """Revoke every rule of these groups that references a group (so none blocks another's deletion),
    then delete each group, waiting (bounded) while network interfaces of deleted services still hold it."""
    failed: dict[str, str] = {}
    if not group_ids:
        return failed
    groups = ec2.describe_security_groups(GroupIds=list(group_ids)).get("SecurityGroups", [])
    for group in groups:
        try:
            ingress = _referencing(group.get("IpPermissions", []))
            egress = _referencing(group.get("IpPermissionsEgress", []))
            if ingress:
                ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=ingress)
            if egress:
                ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=egress)
        except (ClientError, BotoCoreError) as error:
            failed[group["GroupId"]] = describe_error(error)
    for group_id in group_ids:
        if group_id in failed:
            continue
        try:
            retry_while(("DependencyViolation",), _deleter(ec2.delete_security_group, GroupId=group_id))
        except (ClientError, BotoCoreError) as error:
            failed[group_id] = describe_error(error)
    return failed


def _deleter(call: Callable[..., object], **kwargs: Any) -> Callable[[], object]:
    return lambda: call(**kwargs)


def find_subnets(ec2: Any) -> Iterator[Found]:
    """Subnets other than the default ones, with their tags."""
    for page in pages(ec2, "describe_subnets"):
        for subnet in page.get("Subnets", []):
            if subnet.get("DefaultForAz"):
                continue
            yield Found(
                subnet["SubnetId"],
                key_value(subnet.get("Tags", [])),
                names=name_tag(subnet.get("Tags")),
                arn=subnet.get("SubnetArn", ""),
            )


def delete_subnet(ec2: Any, subnet_id: str) -> None:
    """Delete a subnet, waiting (bounded) while network interfaces in it are released."""
    retry_while(("DependencyViolation",), lambda: ec2.delete_subnet(SubnetId=subnet_id))


def find_route_tables(ec2: Any) -> Iterator[Found]:
    """Route tables other than a VPC's main one, with their tags."""
    for page in pages(ec2, "describe_route_tables"):
        for table in page.get("RouteTables", []):
            if any(association.get("Main") for association in table.get("Associations", [])):
                continue
            yield Found(
                table["RouteTableId"],
                key_value(table.get("Tags", [])),
                names=name_tag(table.get("Tags")),
                arn=_ec2_arn(ec2, "route-table", table["RouteTableId"], table.get("OwnerId", "")),
            )


def delete_route_table(ec2: Any, table_id: str) -> None:
    """Remove the table's subnet associations, then delete it."""
    tables = ec2.describe_route_tables(RouteTableIds=[table_id]).get("RouteTables", [])
    for table in tables:
        for association in table.get("Associations", []):
            if not association.get("Main") and association.get("RouteTableAssociationId"):
                ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
    ec2.delete_route_table(RouteTableId=table_id)


def find_internet_gateways(ec2: Any) -> Iterator[Found]:
    """Internet gateways, with their tags."""
    for page in pages(ec2, "describe_internet_gateways"):
        for gateway in page.get("InternetGateways", []):
            yield Found(
                gateway["InternetGatewayId"],
                key_value(gateway.get("Tags", [])),
                names=name_tag(gateway.get("Tags")),
                arn=_ec2_arn(ec2, "internet-gateway", gateway["InternetGatewayId"], gateway.get("OwnerId", "")),
            )


def delete_internet_gateway(ec2: Any, gateway_id: str) -> None:
    """Detach the gateway from its VPCs, then delete it."""
    for gateway in ec2.describe_internet_gateways(InternetGatewayIds=[gateway_id]).get("InternetGateways", []):
        for attachment in gateway.get("Attachments", []):
            ec2.detach_internet_gateway(InternetGatewayId=gateway_id, VpcId=attachment["VpcId"])
    ec2.delete_internet_gateway(InternetGatewayId=gateway_id)


def find_vpcs(ec2: Any) -> Iterator[Found]:
    """VPCs other than the default one, with their tags."""
    for page in pages(ec2, "describe_vpcs"):
        for vpc in page.get("Vpcs", []):
            if vpc.get("IsDefault"):
                continue
            yield Found(
                vpc["VpcId"],
                key_value(vpc.get("Tags", [])),
                names=name_tag(vpc.get("Tags")),
                arn=_ec2_arn(ec2, "vpc", vpc["VpcId"], vpc.get("OwnerId", "")),
            )


def delete_vpc(ec2: Any, vpc_id: str) -> None:
    """Delete a VPC (its default security group, main route table and ACL go with it)."""
    retry_while(("DependencyViolation",), lambda: ec2.delete_vpc(VpcId=vpc_id))
