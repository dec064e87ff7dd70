# Wiring of the serverless side: the archiver consumes the finished-games
# queue with partial batch failures, S3 notifies the queue of new manifests,
# the match run is scheduled, and the API has the three ticket routes.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name                 = "arcade-test"
  environment          = "test"
  vpc_cidr             = "10.60.0.0/16"
  availability_zones   = ["eu-west-1a", "eu-west-1b"]
  private_subnet_cidrs = ["10.60.0.0/20", "10.60.16.0/20"]
  lambda_artifacts_dir = "does-not-exist"
  jwt_issuer           = "https://issuer.example.com"
  jwt_audience         = ["client"]
}

run "wiring" {
  command = plan

  assert {
    condition     = aws_lambda_event_source_mapping.archiver.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The archiver reports partial batch failures."
  }

  assert {
    condition     = aws_s3_bucket_notification.archive.queue[0].filter_prefix == "games/manifests/" && aws_s3_bucket_notification.archive.queue[0].filter_suffix == ".json"
    error_message = "New batch manifests notify the queue."
  }

  assert {
    condition     = aws_cloudwatch_event_rule.match_run.schedule_expression == "rate(1 minute)"
    error_message = "The match run is scheduled every minute."
  }

  assert {
    condition     = aws_lambda_function_event_invoke_config.matchmaker.maximum_retry_attempts == 0
    error_message = "A missed match run is not retried (the next one supersedes it)."
  }
}
