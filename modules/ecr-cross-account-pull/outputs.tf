output "repository_name" {
  description = "Name of the repository the policy is attached to."
  value       = try(aws_ecr_repository_policy.this.repository, null)
}

output "policy" {
  description = "The repository policy JSON as applied."
  value       = try(aws_ecr_repository_policy.this.policy, null)
}
