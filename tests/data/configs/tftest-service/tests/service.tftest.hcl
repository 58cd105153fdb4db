run "plans_the_family" {
  command = plan

  assert {
    condition     = aws_ecs_task_definition.billing.family == "billing"
    error_message = "the task definition's family is not billing"
  }
}

run "applies_the_service" {
  assert {
    condition     = output.family == "billing"
    error_message = "the family output is not billing"
  }
}
