# A small platform the way teams write one: a network module (with its own provider block, as older
# modules have), an EFS file system shared by the services, and one service module used by two internal
# services in private subnets, each with application autoscaling. Fixed names from terraform.tfvars.
# (No load balancer: provider 3.39 waits about 60 s in every aws_lb create, on any emulator.)
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39"
    }
  }
}

provider "aws" {
  region = var.region
}

module "network" {
  source      = "./modules/network"
  region      = var.region
  environment = var.environment
  cidr_block  = var.vpc_cidr
}

resource "aws_ecs_cluster" "this" {
  name = "${var.environment}-platform"
}

resource "aws_efs_file_system" "shared" {
  creation_token = "${var.environment}-platform-shared"
  encrypted      = true
  tags = {
    Name = "${var.environment}-platform-shared"
  }
}

resource "aws_efs_mount_target" "shared" {
  count           = length(module.network.private_subnet_ids)
  file_system_id  = aws_efs_file_system.shared.id
  subnet_id       = module.network.private_subnet_ids[count.index]
  security_groups = [module.network.efs_security_group_id]
}

resource "aws_efs_access_point" "shared" {
  file_system_id = aws_efs_file_system.shared.id
  posix_user {
    uid = 1000
    gid = 1000
  }
  root_directory {
    path = "/shared"
    creation_info {
      owner_uid   = 1000
      owner_gid   = 1000
      permissions = "750"
    }
  }
}

module "api" {
  source            = "./modules/service"
  name              = "${var.environment}-api"
  region            = var.region
  cluster_arn       = aws_ecs_cluster.this.arn
  cluster_name      = aws_ecs_cluster.this.name
  image             = var.api_image
  container_port    = 8080
  subnet_ids        = module.network.private_subnet_ids
  security_group_id = module.network.service_security_group_id
  file_system_id    = aws_efs_file_system.shared.id
  access_point_id   = aws_efs_access_point.shared.id
}

module "worker" {
  source            = "./modules/service"
  name              = "${var.environment}-worker"
  region            = var.region
  cluster_arn       = aws_ecs_cluster.this.arn
  cluster_name      = aws_ecs_cluster.this.name
  image             = var.worker_image
  container_port    = 9090
  subnet_ids        = module.network.private_subnet_ids
  security_group_id = module.network.service_security_group_id
  file_system_id    = aws_efs_file_system.shared.id
  access_point_id   = aws_efs_access_point.shared.id
}
