################################################################################
# ECR repository policy: cross-account image pull
# Grants the listed roles (e.g. ECS task execution roles in workload accounts)
# the three read actions needed to pull an image. The puller's own execution
# role must additionally allow these actions plus ecr:GetAuthorizationToken.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
################################################################################

resource "aws_ecr_repository_policy" "this" {
  repository = var.repository_name

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CrossAccountPull"
        Effect    = "Allow"
        Principal = { AWS = var.puller_role_arns }
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
        ]
      },
    ]
  })
}
