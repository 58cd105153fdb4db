# BROKEN: the SecureString parameters are injected but the execution role is given none of them.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html
module "execution_role" {
  ssm_parameter_arns = []
}
