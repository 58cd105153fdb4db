# BROKEN: the task pulls a tag nobody pushed (the pipeline pushes "latest").
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html
locals {
  image_tag = "never-pushed"
}
