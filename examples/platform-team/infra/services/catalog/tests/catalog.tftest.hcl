# The team's own terraform test file: `fargate-harness test --dir infra/services/catalog` (or pytest with
# tf_test_files = true) runs it for real on the emulator, and the preflight judges what the apply run left.
run "plans_the_task_definition" {
  command = plan

  assert {
    condition     = aws_ecs_task_definition.catalog.family == "catalog"
    error_message = "the catalog task definition must keep its family"
  }
}

run "applies_the_service" {
  assert {
    condition     = aws_cloudwatch_log_group.catalog.retention_in_days == 14
    error_message = "the catalog logs must be kept 14 days"
  }

  assert {
    condition     = length(aws_ecs_task_definition.catalog.arn) > 0
    error_message = "the catalog task definition was not registered"
  }
}
