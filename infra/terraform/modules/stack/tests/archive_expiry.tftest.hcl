# Retention of the PostgreSQL archive in the AWS deployment (issue #16 item 6):
# the archiver Lambda fills PostgreSQL, so a daily EventBridge rule invokes it
# with {"source": "arcade.schedule", "action": "expire-archive"} and it runs
# the hosts' retention code with ARCADE_ARCHIVE_RETENTION_DAYS (the same
# archive_retention_days as the bucket's lifecycle rule). 0 keeps games
# forever: no rule. tests/all/lambda.rs sends the target's input to the
# compiled archiver.

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

run "the_archiver_expires_postgres_daily_after_90_days_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_event_rule.archive_expiry) == 1 && aws_cloudwatch_event_rule.archive_expiry[0].schedule_expression == "rate(1 day)"
    error_message = "One daily archive-expiry rule."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.archive_expiry[0].input) == { source = "arcade.schedule", action = "expire-archive" }
    error_message = "The target sends the input lambda/archiver/src/event.rs takes for a retention run."
  }

  assert {
    condition     = aws_lambda_permission.archive_expiry[0].principal == "events.amazonaws.com" && aws_lambda_permission.archive_expiry[0].action == "lambda:InvokeFunction"
    error_message = "EventBridge may invoke the archiver."
  }

  assert {
    condition     = local.archiver_environment.ARCADE_ARCHIVE_RETENTION_DAYS == "90"
    error_message = "The archiver deletes PostgreSQL games after the bucket's 90 days."
  }
}

run "the_archiver_follows_archive_retention_days" {
  command = plan

  variables {
    archive_retention_days = 30
  }

  assert {
    condition     = local.archiver_environment.ARCADE_ARCHIVE_RETENTION_DAYS == "30" && length(aws_cloudwatch_event_rule.archive_expiry) == 1
    error_message = "ARCADE_ARCHIVE_RETENTION_DAYS follows archive_retention_days."
  }
}

run "zero_keeps_games_forever_and_schedules_nothing" {
  command = plan

  variables {
    archive_retention_days = 0
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.archive_expiry) == 0 && length(aws_cloudwatch_event_target.archive_expiry) == 0 && length(aws_lambda_permission.archive_expiry) == 0
    error_message = "With 0 there is no archive-expiry schedule."
  }

  assert {
    condition     = local.archiver_environment.ARCADE_ARCHIVE_RETENTION_DAYS == "0"
    error_message = "The archiver is told games are kept forever."
  }
}

run "retention_days_are_whole_and_not_negative" {
  command = plan

  variables {
    archive_retention_days = -1
  }

  expect_failures = [var.archive_retention_days]
}
