output "services" {
  description = "Per-service facts keyed by service short name: roles, task definition, log group and the ARN lists declared to the role modules."
  value = tomap({
    (local.service) = {
      execution_role_arn  = module.execution_role.arn
      execution_role_name = module.execution_role.name
      task_role_arn       = tostring(null)
      task_role_name      = tostring(null)
      task_definition_arn = aws_ecs_task_definition.this.arn
      family              = aws_ecs_task_definition.this.family
      log_group_name      = local.log_group_name
      log_group_arn       = tostring(null)
      log_retention_days  = tonumber(null)
      declared            = local.declared
      task_declared = {
        s3_bucket_arns      = tolist([])
        dynamodb_table_arns = tolist([])
      }
    }
  })
}

output "expected_failure" {
  description = "Name of the Fargate start-up failure this configuration reproduces (equal to the scenario folder name)."
  value       = local.expected_failure
}

output "task_definition_arn" {
  description = "ARN of the task definition whose tasks fail to start."
  value       = aws_ecs_task_definition.this.arn
}
