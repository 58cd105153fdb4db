# A root with no provider block of its own and a child module that configures one (older module style).
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39"
    }
  }
}

module "queue_role" {
  source = "./modules/queue"
  name   = "jobs-reader"
}
