# Default provider, two aliased AWS providers (one with a nested assume_role block) and an aliased
# provider of another type whose alias must not be reported.
provider "aws" {
  region = var.region
}

provider "aws" {
  alias  = "registry"
  region = var.region

  assume_role {
    role_arn     = var.registry_role_arn
    session_name = "fargate-harness"
  }
}

provider "google" {
  alias   = "other"
  project = "unrelated"
}

provider "aws" {
  alias = "replica"

  default_tags {
    tags = {
      Owner = "platform"
    }
  }
}

provider "awscc" {
  alias = "cloudcontrol"
}
