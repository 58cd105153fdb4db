variable "name" {
  description = "Service name, also the prefix of its resources"
  type        = string
}

variable "region" {
  description = "Region (for awslogs and ARNs)"
  type        = string
}

variable "cluster_arn" {
  description = "ECS cluster ARN"
  type        = string
}

variable "cluster_name" {
  description = "ECS cluster name (for the autoscaling resource id)"
  type        = string
}

variable "image" {
  description = "Container image"
  type        = string
}

variable "container_port" {
  description = "Port the container listens on"
  type        = number
}

variable "subnet_ids" {
  description = "Subnets of the tasks"
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the tasks"
  type        = string
}

variable "file_system_id" {
  description = "EFS file system mounted at /mnt/shared"
  type        = string
}

variable "access_point_id" {
  description = "EFS access point used for the mount"
  type        = string
}
