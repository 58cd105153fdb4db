# BROKEN: the secrets are injected but the execution role is given none of them (no ReadSecrets).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
module "execution_role" {
  secret_arns = []
}
