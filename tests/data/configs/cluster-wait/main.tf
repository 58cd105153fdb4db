# One ECS cluster: the smallest configuration whose apply waits inside the provider. Provider 3.39 waits about
# 10 s after CreateCluster before it first reads the cluster back (on any emulator, as on AWS), and it finishes
# that wait when Terraform is interrupted: the Ctrl-C test (tests/safety/test_pytest_interrupts.py) interrupts
# it there. A fixed name, as teams write it: the run gets an account of its own.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_ecs_cluster" "this" {
  name = "interrupt-wait"
}
