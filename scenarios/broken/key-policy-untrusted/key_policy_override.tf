# BROKEN: the key policy trusts only the identity running Terraform (as its role ARN when it is an
# assumed-role session): no "arn:aws:iam::<account>:root" statement, so the role's DecryptSecrets
# statement has no effect, and no statement for the role.
# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
locals {
  key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "KeyAdministration"
        Effect = "Allow"
        Principal = {
          AWS = replace(
            data.aws_caller_identity.current.arn,
            "/^arn:([^:]+):sts::([0-9]+):assumed-role/([^/]+)/.*$/",
            "arn:$1:iam::$2:role/$3",
          )
        }
        Action   = "kms:*"
        Resource = "*"
      },
    ]
  })
}
