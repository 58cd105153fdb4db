# BROKEN: the registry's repository policy lets only the registry's own Terraform role pull, not the
# workload's execution role. A cross-account pull needs the role's policy and the repository policy.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html
module "registry_pull_policy" {
  puller_role_arns = [var.registry_role_arn]
}
