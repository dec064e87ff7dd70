# arcade-matchmaker and arcade-archiver: provided.al2023, arm64, `bootstrap`
# zips built from lambda/ at target/lambda/<name>/bootstrap.zip.
#
# Environment contract: exactly what the handlers read (extend with
# matchmaker_environment / archiver_environment):
#   matchmaker: ARCADE_REDIS_URL (rediss://:<AUTH token>@host:6379, TLS; the
#               nodes get the same URL: output host_redis_url),
#               ARCADE_CLUSTER_NAMESPACE (the nodes' cluster.namespace; the
#               handler derives <ns>:mm and <ns>:nodes from it, as the nodes do),
#               ARCADE_MM_QUEUES (JSON list of {game, mode, players_per_match}),
#               ARCADE_MM_DEFAULT_MODE, ARCADE_MM_DEFAULT_REGION (the nodes'
#               matchmaking.default_mode / default_region),
#               ARCADE_MM_REGION_FALLBACK (JSON of matchmaking_region_fallback,
#               the nodes' cluster.region_fallback; {} = no fallback),
#               ARCADE_CLUSTER_SECRET (the nodes' cluster.secret: checks their
#               signed records, signs room creation; output host_cluster_secret),
#               ARCADE_MM_PLAYER_CLAIM (matchmaker_player_claim: the JWT claim
#               that holds the player's Arcade account id)
#   archiver:   ARCADE_ARCHIVE_PG_URL (postgres://arcade_archiver:<password>@host:5432/db?sslmode=require),
#               ARCADE_ARCHIVE_S3_URL (s3://<bucket>/<prefix>?region=..),
#               ARCADE_ARCHIVE_RETENTION_DAYS (archive_retention_days: the
#               daily archive-expiry run deletes older games from PostgreSQL;
#               the bucket's lifecycle rule expires them in S3)
#               (lambda/archiver/src/config.rs)
# The credentials in the URLs come from Secrets Manager secrets (the source
# of truth, generated once); the environment is encrypted with the stack's
# KMS key, so reading it back needs kms:Decrypt on that key as well as
# lambda:GetFunctionConfiguration.

locals {
  # One Redis URL for the matchmaker and the host nodes
  # (ARCADE_CLUSTER__REDIS_URL, output host_redis_url).
  redis_url = "rediss://:${module.redis.auth_token}@${module.redis.primary_endpoint}:${module.redis.port}"

  matchmaker_environment = merge({
    RUST_LOG                 = "info"
    ARCADE_REDIS_URL         = local.redis_url
    ARCADE_CLUSTER_NAMESPACE = var.cluster_namespace
    ARCADE_MM_QUEUES         = jsonencode(var.matchmaking_queues)
    ARCADE_MM_DEFAULT_MODE   = var.matchmaking_default_mode
    ARCADE_MM_DEFAULT_REGION = var.matchmaking_default_region
    # Placement order when a match's region is full (lambda/matchmaker/src/config.rs).
    ARCADE_MM_REGION_FALLBACK = jsonencode(var.matchmaking_region_fallback)
    ARCADE_CLUSTER_SECRET     = aws_secretsmanager_secret_version.cluster.secret_string
    ARCADE_MM_PLAYER_CLAIM    = var.matchmaker_player_claim
  }, var.matchmaker_environment)

  archiver_environment = merge({
    RUST_LOG = "info"
    # sslmode=require: TLS (rds.force_ssl), certificate not verified; the
    # archiver's sqlx is built with rustls (host/Cargo.toml).
    ARCADE_ARCHIVE_PG_URL = "postgres://${var.archiver_db_user}:${aws_secretsmanager_secret_version.archiver_db.secret_string}@${module.postgres.address}:${module.postgres.port}/${module.postgres.database_name}?sslmode=${var.postgres_require_tls ? "require" : "prefer"}"
    ARCADE_ARCHIVE_S3_URL = module.archive_bucket.archive_url
    # The same age as the bucket's lifecycle expiration (0: kept forever).
    ARCADE_ARCHIVE_RETENTION_DAYS = tostring(var.archive_retention_days)
  }, var.archiver_environment)
}

# ---- matchmaker ----------------------------------------------------------------------

resource "aws_sqs_queue" "matchmaker_async_dlq" {
  name                      = "${var.name}-matchmaker-async-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = aws_kms_key.this.arn
  tags                      = local.tags
}

# Beyond the module's base policy (its logs, VPC network interfaces, X-Ray,
# kms:Decrypt of the environment, sqs:SendMessage to its async DLQ) the
# matchmaker only needs to encrypt what it sends to that DLQ (SSE-KMS with the
# stack key). Redis and the host nodes are reached over the network: no
# secrets, no data stores.
data "aws_iam_policy_document" "matchmaker" {
  statement {
    sid       = "EncryptFailedAsyncInvocations"
    actions   = ["kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
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
  environment           = local.matchmaker_environment
  tags                  = local.tags
}

# A missed match run is superseded by the next one: no retries, short age.
resource "aws_lambda_function_event_invoke_config" "matchmaker" {
  function_name                = module.matchmaker.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 60
}

# The cluster secret shared by the host nodes (ARCADE_CLUSTER__SECRET, output
# host_cluster_secret) and the matchmaker (ARCADE_CLUSTER_SECRET): node
# records and internal room-creation calls are signed with it. Generated once
# (ignore_changes keeps the first), kept in Secrets Manager.
data "aws_secretsmanager_random_password" "cluster" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "cluster" {
  #checkov:skip=CKV2_AWS_57:Rotating the cluster secret means restarting every node and the matchmaker with the new value together (infra/terraform/README.md), not a Secrets Manager rotation Lambda.
  name                    = "${var.name}/cluster-secret"
  description             = "Cluster secret of the Arcade host nodes and the matchmaker (signed node records and room creation)"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "cluster" {
  secret_id     = aws_secretsmanager_secret.cluster.id
  secret_string = data.aws_secretsmanager_random_password.cluster.random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

# ---- archiver ------------------------------------------------------------------------

# The archiver's database password: generated once (the data source answers a
# new value on every plan; ignore_changes keeps the first), kept in Secrets
# Manager, given to the role with CREATE USER ... PASSWORD (README: after the
# first apply). Alphanumeric, so it needs no escaping in the URL.
data "aws_secretsmanager_random_password" "archiver_db" {
  password_length     = 40
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "archiver_db" {
  #checkov:skip=CKV2_AWS_57:The password is also set in the database role and in the archiver's URL; rotating it is a manual procedure (infra/terraform/README.md: ALTER USER, the new URL through archiver_environment, put-secret-value), not a Secrets Manager rotation Lambda.
  name                    = "${var.name}/archiver-db-password"
  description             = "Password of the ${var.archiver_db_user} PostgreSQL role (arcade-archiver)"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "archiver_db" {
  secret_id     = aws_secretsmanager_secret.archiver_db.id
  secret_string = data.aws_secretsmanager_random_password.archiver_db.random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

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

  # GetObject(Version): the records S3 notifications name (the exact version:
  # the bucket is versioned) and the manifests; Put: the S3 archive sink.
  statement {
    sid = "ReadWriteArchiveObjects"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:PutObject",
      "s3:PutObjectTagging",
    ]
    resources = ["${module.archive_bucket.bucket_arn}/${var.archive_prefix}/*"]
  }

  # HeadBucket and the manifest listing of the shared archive code
  # (host/crates/archive/src/s3.rs); without it a missing key reads as AccessDenied.
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
  environment          = local.archiver_environment
  tags                 = local.tags
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
# EventBridge rules fire at most once a minute, one matching round per
# invocation; the host nodes' own rounds (matchmaking.round_interval_ms) keep
# matching in between.

resource "aws_cloudwatch_event_rule" "match_run" {
  name                = "${var.name}-match-run"
  description         = "Run the matchmaker's match function over the Redis queue"
  schedule_expression = var.match_run_schedule
  tags                = local.tags
}

# The target's input is what the handler takes for a round
# (lambda/matchmaker/src/event.rs: exactly these two keys; it also takes
# EventBridge's own "Scheduled Event" envelope). tests/all/lambda_matchmaker.rs
# reads this literal out of this file and sends it to the compiled handler:
# keep it a literal object.
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

# ---- schedule: archive retention -----------------------------------------------------------
# The hosts archive to S3 (expired there by the bucket's lifecycle rule); the
# archiver fills PostgreSQL, so it also expires PostgreSQL: once a day it runs
# the hosts' retention code (archive::retention, PgSink::expire) with
# ARCADE_ARCHIVE_RETENTION_DAYS. No rule when games are kept forever (0).

resource "aws_cloudwatch_event_rule" "archive_expiry" {
  count               = var.archive_retention_days > 0 ? 1 : 0
  name                = "${var.name}-archive-expiry"
  description         = "Delete archived games older than archive_retention_days from PostgreSQL"
  schedule_expression = var.archive_expiry_schedule
  tags                = local.tags
}

# The target's input is what the archiver takes for a retention run
# (lambda/archiver/src/event.rs: exactly these two keys). tests/all/lambda.rs
# reads this literal out of this file and sends it to the compiled handler:
# keep it a literal object. A failed run is retried; the deletes are batched
# and idempotent, so a retry (or the next day's run) continues.
resource "aws_cloudwatch_event_target" "archive_expiry" {
  count = var.archive_retention_days > 0 ? 1 : 0
  rule  = aws_cloudwatch_event_rule.archive_expiry[0].name
  arn   = module.archiver.function_arn
  input = jsonencode({ source = "arcade.schedule", action = "expire-archive" })

  retry_policy {
    maximum_retry_attempts       = 2
    maximum_event_age_in_seconds = 3600
  }
}

resource "aws_lambda_permission" "archive_expiry" {
  count         = var.archive_retention_days > 0 ? 1 : 0
  statement_id  = "AllowArchiveExpirySchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.archiver.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.archive_expiry[0].arn
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
