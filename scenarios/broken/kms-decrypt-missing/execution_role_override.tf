# BROKEN: the parameters are granted, the key that encrypts them is not (no DecryptSecrets statement).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html
module "execution_role" {
  kms_key_arns = []
}
