# The whole serverless side of one Arcade environment:
#
#   host nodes --(S3 sink)--> archive bucket --(record created)--> SQS --> arcade-archiver --> PostgreSQL
#   players --> HTTP API --> arcade-matchmaker <--> Redis <-- host nodes
#   EventBridge (every minute) --> arcade-matchmaker (match run)
#
# One customer-managed KMS key encrypts everything that takes one.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge(var.tags, { "app.kubernetes.io/part-of" = "arcade", Environment = var.environment })
}

# ---- KMS ------------------------------------------------------------------------

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:This is a KMS key policy: "*" means this key only, and the account root statement is the AWS default that lets IAM policies grant use of the key.
  #checkov:skip=CKV_AWS_111:KMS key policy; "*" is the key itself. Service principals are constrained by encryption context / source account conditions.
  #checkov:skip=CKV_AWS_356:KMS key policy; a key policy's resource is always "*" (the key it is attached to).
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogs"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  # S3 event notifications into the SSE-KMS encrypted queue.
  statement {
    sid       = "S3NotificationsToEncryptedQueue"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Arcade ${var.environment}: archive, queues, databases, logs, secrets"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

# ---- network --------------------------------------------------------------------

module "network" {
  source               = "../network"
  name                 = var.name
  cidr_block           = var.vpc_cidr
  availability_zones   = var.availability_zones
  private_subnet_cidrs = var.private_subnet_cidrs
  kms_key_arn          = aws_kms_key.this.arn
  tags                 = local.tags
}

locals {
  # Host nodes (EKS nodes or pods) that reach Redis/PostgreSQL and that the
  # matchmaker calls to allocate rooms; default: the whole VPC.
  host_node_cidrs = length(var.host_node_cidrs) > 0 ? var.host_node_cidrs : [var.vpc_cidr]
}

# ---- archive: bucket -> queue -----------------------------------------------------

module "archive_bucket" {
  source                     = "../archive_bucket"
  bucket_name                = "${var.name}-archive-${local.account_id}"
  prefix                     = var.archive_prefix
  kms_key_arn                = aws_kms_key.this.arn
  transition_to_ia_days      = var.archive_transition_to_ia_days
  transition_to_glacier_days = var.archive_transition_to_glacier_days
  expiration_days            = var.archive_retention_days
  access_log_bucket          = var.access_log_bucket
  force_destroy              = var.archive_force_destroy
  tags                       = local.tags
}

module "archive_queue" {
  source                     = "../archive_queue"
  name                       = "${var.name}-finished-games"
  kms_key_arn                = aws_kms_key.this.arn
  visibility_timeout_seconds = 6 * var.archiver_timeout_seconds
  source_bucket_arn          = module.archive_bucket.bucket_arn
  source_account_id          = local.account_id
  tags                       = local.tags
}

# Each finished-game record a host writes to the archive
# (<prefix>/<yyyy>/<mm>/<dd>/<game_id>.json.zst, host/crates/archive/src/s3.rs)
# notifies the queue; the archiver fetches the object the notification names
# and writes the game to PostgreSQL (lambda/archiver/src/sqs.rs, inbox.rs).
# The batch manifests (<prefix>/manifests/*.json) do not match the suffix.
# S3's one s3:TestEvent message on configuration is acknowledged.
resource "aws_s3_bucket_notification" "archive" {
  bucket = module.archive_bucket.bucket_name

  queue {
    id            = "finished-game-records"
    queue_arn     = module.archive_queue.queue_arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "${var.archive_prefix}/"
    filter_suffix = ".json.zst"
  }

  depends_on = [module.archive_queue]
}

# ---- databases ---------------------------------------------------------------------

module "postgres" {
  source                     = "../postgres"
  name                       = "${var.name}-archive"
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [aws_security_group.archiver.id]
  allowed_cidr_blocks        = var.hosts_write_postgres ? local.host_node_cidrs : []
  instance_class             = var.postgres_instance_class
  multi_az                   = var.postgres_multi_az
  backup_retention_days      = var.postgres_backup_retention_days
  deletion_protection        = var.deletion_protection
  final_snapshot             = var.deletion_protection
  require_tls                = var.postgres_require_tls
  kms_key_arn                = aws_kms_key.this.arn
  tags                       = local.tags
}

module "redis" {
  source                     = "../redis"
  name                       = "${var.name}-redis"
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [aws_security_group.matchmaker.id]
  allowed_cidr_blocks        = local.host_node_cidrs
  node_type                  = var.redis_node_type
  num_cache_clusters         = var.redis_num_cache_clusters
  kms_key_arn                = aws_kms_key.this.arn
  tags                       = local.tags
}
