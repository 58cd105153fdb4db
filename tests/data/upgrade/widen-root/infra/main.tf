# A small root configuration whose task role policy the upgrade tests widen to s3:* in a git working tree.
# IAM JSON policy elements, Action: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39"
    }
  }
}

variable "name_prefix" {
  type = string
}

variable "reports_bucket" {
  description = "Suffix of the bucket whose objects the task reads"
  type        = string
  default     = "reports"
}

module "task_role" {
  source = "../modules/task-role"
  name   = "${var.name_prefix}-orders-task"
}

resource "aws_iam_role_policy" "reports" {
  name = "reports"
  role = module.task_role.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ReadReports"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = ["arn:aws:s3:::${var.name_prefix}-${var.reports_bucket}/*"]
    }]
  })
}

output "task_role_arn" {
  value = module.task_role.arn
}
