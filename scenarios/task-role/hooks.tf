################################################################################
# Hooks for cases under scenarios/broken/ (a *_override.tf locals block). All off by default: with these
# values nothing in this file is created and the scenario is exactly the reference one.
# Values that decide a count (the flags, and whether a policy is null) must be known at plan time.
################################################################################

locals {
  # extra_role: an IAM role "<name>-extra" (aws_iam_role.extra) with the trust policy extra_role_trust
  # (JSON; null: ecs-tasks.amazonaws.com may assume it) and, unless extra_role_policy is null, the inline
  # policy extra_role_policy (JSON).
  extra_role        = false
  extra_role_trust  = null
  extra_role_policy = null

  # file_system: an encrypted EFS file system (aws_efs_file_system.extra) and, unless file_system_policy is
  # null, its file system policy (JSON; null keeps EFS's default policy).
  file_system        = false
  file_system_policy = null
}

resource "aws_iam_role" "extra" {
  count = local.extra_role ? 1 : 0

  name        = "${local.name}-extra"
  description = "Extra role of a broken case of ${local.name}"
  assume_role_policy = coalesce(local.extra_role_trust, jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "ecs-tasks.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  }))
  tags = var.tags
}

resource "aws_iam_role_policy" "extra" {
  count = local.extra_role && local.extra_role_policy != null ? 1 : 0

  name   = "extra-access"
  role   = aws_iam_role.extra[0].id
  policy = coalesce(local.extra_role_policy, "{}") # never "{}": count is 0 when the policy is null
}

resource "aws_efs_file_system" "extra" {
  count = local.file_system ? 1 : 0

  creation_token = "${local.name}-extra"
  encrypted      = true
  tags           = var.tags
}

resource "aws_efs_file_system_policy" "extra" {
  count = local.file_system && local.file_system_policy != null ? 1 : 0

  file_system_id = aws_efs_file_system.extra[0].id
  policy         = coalesce(local.file_system_policy, "{}") # never "{}": count is 0 when the policy is null
}
