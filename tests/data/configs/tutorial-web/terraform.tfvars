aws_region = "eu-west-1"
app_name   = "web"
app_image  = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2"
