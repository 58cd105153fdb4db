output "vpc_id" {
  value = aws_vpc.this.id
}

output "private_subnet_ids" {
  value = aws_subnet.private[*].id
}

output "service_security_group_id" {
  value = aws_security_group.service.id
}

output "efs_security_group_id" {
  value = aws_security_group.efs.id
}
