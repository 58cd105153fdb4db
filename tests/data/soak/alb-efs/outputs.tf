output "load_balancer_arn" {
  description = "ARN of the internal ALB."
  value       = try(aws_lb.this.arn, null)
}

output "file_system_id" {
  description = "ID of the EFS file system."
  value       = try(aws_efs_file_system.this.id, null)
}

output "execution_role_arn" {
  description = "ARN of the task execution role."
  value       = try(aws_iam_role.execution.arn, null)
}
