# A service deployed into infrastructure another team owns: the VPC and the image repository exist before this
# configuration is applied, and it finds them with data sources.
provider "aws" {
  region = "us-east-1"
}

data "aws_vpc" "shared" {
  tags = {
    Name = "platform-shared"
  }
}

resource "aws_cloudwatch_log_group" "billing" {
  name              = "/ecs/billing"
  retention_in_days = 14
}

module "app" {
  source    = "./modules/app"
  name      = "billing"
  vpc_id    = data.aws_vpc.shared.id
  log_group = aws_cloudwatch_log_group.billing.name
}
