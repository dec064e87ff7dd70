terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: terraform init -backend-config=backend.hcl
  # (bucket, key, region, dynamodb_table or use_lockfile, encrypt = true).
  backend "s3" {}
}
