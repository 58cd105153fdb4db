environment  = "staging"
api_image    = "public.ecr.aws/nginx/nginx:1.25"
worker_image = "public.ecr.aws/docker/library/busybox:1.36"
