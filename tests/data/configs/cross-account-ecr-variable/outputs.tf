output "repository_url" {
  description = "Where the pipeline pushes the image."
  value       = try(aws_ecr_repository.web.repository_url, null)
}
