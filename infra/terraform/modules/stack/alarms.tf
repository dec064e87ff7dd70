# CloudWatch alarms on the serverless side (the host nodes are watched by
# Prometheus: infra/monitoring/).

resource "aws_cloudwatch_metric_alarm" "archive_dlq" {
  alarm_name          = "${var.name}-archive-dlq-not-empty"
  alarm_description   = "Finished-game messages failed repeatedly and sit in the DLQ: inspect and redrive them."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = module.archive_queue.dlq_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "archive_backlog_age" {
  alarm_name          = "${var.name}-archive-backlog-old"
  alarm_description   = "The oldest finished-game message waits more than 15 minutes: the archiver is failing or too slow."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = module.archive_queue.queue_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 900
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  # Static keys: the function names are only known after apply.
  for_each            = { matchmaker = module.matchmaker.function_name, archiver = module.archiver.function_name }
  alarm_name          = "${var.name}-${each.key}-errors"
  alarm_description   = "${each.value} invocations are failing."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 5
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = local.tags
}
