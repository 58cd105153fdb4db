# BROKEN: the task definition names an execution role that does not exist (a typo in its name).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
resource "aws_ecs_task_definition" "this" {
  execution_role_arn = replace(module.execution_role.arn, "/-execution$/", "-exec")
}
