variable "ecs_account_id" {
  description = "The account the ECS tasks run in: the repository policy lets this account's execution role pull."
  type        = string
  default     = "314159265358"
}

variable "region" {
  description = "Where the service and its registry live."
  type        = string
  default     = "eu-west-1"
}
