# BROKEN: the container logs to a group that is never created (and no awslogs-create-group).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
locals {
  awslogs_group = "/ecs/${local.name}-missing"
}
