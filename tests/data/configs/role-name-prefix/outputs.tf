output "execution_role_arn" {
  description = "The execution role's ARN."
  value       = try(aws_iam_role.execution.arn, null)
}
