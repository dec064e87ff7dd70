# arcade-matchmaker and arcade-archiver: provided.al2023, arm64, `bootstrap`
# zips built from lambda/ at target/lambda/<name>/bootstrap.zip.
#
# Environment contract (what the handlers are given; extend with
# matchmaker_environment / archiver_environment):
#   matchmaker: ARCADE_REDIS_URL (rediss://host:port, no password),
#               ARCADE_REDIS_AUTH_SECRET_ARN (Secrets Manager: the AUTH token)
#   archiver:   ARCADE_ARCHIVE_BUCKET, ARCADE_ARCHIVE_PREFIX,
#               ARCADE_PG_HOST, ARCADE_PG_PORT, ARCADE_PG_DATABASE,
#               ARCADE_PG_USER (an IAM-authenticated role: rds-db:connect),
#               ARCADE_PG_SSLMODE=require

# ---- matchmaker ----------------------------------------------------------------------

resource "aws_sqs_queue" "matchmaker_async_dlq" {
  name                      = "${var.name}-matchmaker-async-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = aws_kms_key.this.arn
  tags                      = local.tags
}

data "aws_iam_policy_document" "matchmaker" {
  statement {
    sid       = "ReadRedisAuthToken"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [module.redis.auth_secret_arn]
  }
}

module "matchmaker" {
  source                = "../lambda_function"
  function_name         = "arcade-matchmaker${var.lambda_name_suffix}"
  description           = "Arcade matchmaking: ticket API and the scheduled match run over Redis"
  zip_path              = "${var.lambda_artifacts_dir}/arcade-matchmaker/bootstrap.zip"
  memory_size           = var.matchmaker_memory_size
  timeout_seconds       = var.matchmaker_timeout_seconds
  reserved_concurrency  = var.matchmaker_reserved_concurrency
  subnet_ids            = module.network.private_subnet_ids
  security_group_ids    = [aws_security_group.matchmaker.id]
  policy_json           = data.aws_iam_policy_document.matchmaker.json
  dead_letter_queue_arn = aws_sqs_queue.matchmaker_async_dlq.arn
  kms_key_arn           = aws_kms_key.this.arn
  environment = merge({
    RUST_LOG                     = "info"
    ARCADE_REDIS_URL             = "rediss://${module.redis.primary_endpoint}:${module.redis.port}"
    ARCADE_REDIS_AUTH_SECRET_ARN = module.redis.auth_secret_arn
  }, var.matchmaker_environment)
  tags = local.tags
}

# A missed match run is superseded by the next one: no retries, short age.
resource "aws_lambda_function_event_invoke_config" "matchmaker" {
  function_name                = module.matchmaker.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 60
}

# ---- archiver ------------------------------------------------------------------------

data "aws_iam_policy_document" "archiver" {
  statement {
    sid = "ConsumeFinishedGames"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [module.archive_queue.queue_arn]
  }

  statement {
    sid = "ReadWriteArchiveObjects"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:PutObjectTagging",
    ]
    resources = ["${module.archive_bucket.bucket_arn}/${var.archive_prefix}/*"]
  }

  # HeadBucket and the manifest listing of the shared archive code
  # (host/src/archive/s3.rs); without it a missing key reads as AccessDenied.
  statement {
    sid       = "ListArchiveBucket"
    actions   = ["s3:ListBucket"]
    resources = [module.archive_bucket.bucket_arn]
  }

  statement {
    sid       = "UseArchiveKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }

  statement {
    sid       = "ConnectToArchiveDatabase"
    actions   = ["rds-db:connect"]
    resources = ["arn:${local.partition}:rds-db:${local.region}:${local.account_id}:dbuser:${module.postgres.resource_id}/${var.archiver_db_user}"]
  }
}

module "archiver" {
  source               = "../lambda_function"
  function_name        = "arcade-archiver${var.lambda_name_suffix}"
  description          = "Arcade archival: finished-game batches from SQS into PostgreSQL and S3, idempotently"
  zip_path             = "${var.lambda_artifacts_dir}/arcade-archiver/bootstrap.zip"
  memory_size          = var.archiver_memory_size
  timeout_seconds      = var.archiver_timeout_seconds
  reserved_concurrency = var.archiver_reserved_concurrency
  subnet_ids           = module.network.private_subnet_ids
  security_group_ids   = [aws_security_group.archiver.id]
  policy_json          = data.aws_iam_policy_document.archiver.json
  kms_key_arn          = aws_kms_key.this.arn
  environment = merge({
    RUST_LOG              = "info"
    ARCADE_ARCHIVE_BUCKET = module.archive_bucket.bucket_name
    ARCADE_ARCHIVE_PREFIX = var.archive_prefix
    ARCADE_PG_HOST        = module.postgres.address
    ARCADE_PG_PORT        = tostring(module.postgres.port)
    ARCADE_PG_DATABASE    = module.postgres.database_name
    ARCADE_PG_USER        = var.archiver_db_user
    ARCADE_PG_SSLMODE     = "require"
  }, var.archiver_environment)
  tags = local.tags
}

resource "aws_lambda_event_source_mapping" "archiver" {
  event_source_arn                   = module.archive_queue.queue_arn
  function_name                      = module.archiver.function_arn
  batch_size                         = var.archiver_batch_size
  maximum_batching_window_in_seconds = 5
  # The handler answers batchItemFailures: only failed messages are retried.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.archiver_max_concurrency
  }
}

# ---- schedule: the match run -------------------------------------------------------------
# EventBridge rules fire at most once a minute. For a tighter cadence the
# handler loops inside one invocation (match, sleep, match ... until shortly
# before its timeout), or the matchmaker runs matches on ticket creation too.

resource "aws_cloudwatch_event_rule" "match_run" {
  name                = "${var.name}-match-run"
  description         = "Run the matchmaker's match function over the Redis queue"
  schedule_expression = var.match_run_schedule
  tags                = local.tags
}

resource "aws_cloudwatch_event_target" "match_run" {
  rule  = aws_cloudwatch_event_rule.match_run.name
  arn   = module.matchmaker.function_arn
  input = jsonencode({ source = "arcade.schedule", action = "run-matches" })

  retry_policy {
    maximum_retry_attempts       = 0
    maximum_event_age_in_seconds = 60
  }
}

resource "aws_lambda_permission" "match_run" {
  statement_id  = "AllowMatchRunSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.matchmaker.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.match_run.arn
}

# ---- API ------------------------------------------------------------------------------------

module "api" {
  source                   = "../api_gateway"
  name                     = "${var.name}-matchmaking"
  matchmaker_function_name = module.matchmaker.function_name
  matchmaker_invoke_arn    = module.matchmaker.invoke_arn
  jwt_issuer               = var.jwt_issuer
  jwt_audience             = var.jwt_audience
  cors_allow_origins       = var.cors_allow_origins
  kms_key_arn              = aws_kms_key.this.arn
  tags                     = local.tags
}
