# The function module's contract: provided.al2023, bootstrap, arm64, in the
# VPC, traced, encrypted environment, logs in its own group.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  function_name      = "arcade-archiver"
  description        = "test"
  zip_path           = "does-not-exist/bootstrap.zip"
  subnet_ids         = ["subnet-1", "subnet-2"]
  security_group_ids = ["sg-1"]
  policy_json        = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  kms_key_arn        = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
}

run "contract" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.handler == "bootstrap"
    error_message = "Rust functions run on provided.al2023 with the bootstrap handler."
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "The default architecture is arm64."
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing is active."
  }

  assert {
    condition     = length(aws_lambda_function.this.vpc_config[0].subnet_ids) == 2
    error_message = "The function runs in the given subnets."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/arcade-archiver"
    error_message = "The function logs to its own group."
  }
}
