# The service stack reads the network stack's outputs from its state in S3, as split stacks often do.
provider "aws" {
  region = "us-east-1"
}

data "terraform_remote_state" "network" {
  backend = "s3"
  config = {
    bucket = "acme-terraform-state"
    key    = "network/terraform.tfstate"
    region = "us-east-1"
  }
}

resource "aws_security_group" "service" {
  name   = "orders-service"
  vpc_id = data.terraform_remote_state.network.outputs.vpc_id
}
