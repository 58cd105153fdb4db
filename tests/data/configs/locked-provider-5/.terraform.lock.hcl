# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.
# (fargate-harness test data: the hash is a placeholder; offline, this version is never installed)

provider "registry.terraform.io/hashicorp/aws" {
  version     = "5.31.0"
  constraints = ">= 3.0.0"
  hashes = [
    "h1:ltxyuBWIy9cq0kIKDJH1jeWJy/y7XJLjS4QrsQK4plA=",
  ]
}
