region = "eu-central-1"
image  = "public.ecr.aws/nginx/nginx:1.25"
