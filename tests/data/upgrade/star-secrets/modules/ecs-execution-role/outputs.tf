output "arn" {
  description = "ARN of the task execution role (use as the task definition's execution_role_arn)."
  value       = try(aws_iam_role.this.arn, null)
}

output "name" {
  description = "Name of the task execution role."
  value       = try(aws_iam_role.this.name, null)
}

output "unique_id" {
  description = "Stable unique ID of the task execution role."
  value       = try(aws_iam_role.this.unique_id, null)
}

output "inline_policy_name" {
  description = "Name of the inline policy (\"execution-access\"), or null when no statement was needed."
  value       = try(aws_iam_role_policy.this[0].name, null)
}
