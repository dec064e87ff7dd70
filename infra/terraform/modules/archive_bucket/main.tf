# The archive of finished games: SSE-KMS, versioning, no public access,
# bucket-owner-enforced ownership, TLS-only access, and a lifecycle that moves
# old replays to cheaper storage classes and expires them (retention) after
# expiration_days.
#
# Layout (written by the host's S3 sink, host/crates/archive/src/s3.rs):
#   <prefix>/<yyyy>/<mm>/<dd>/<game_id>.json.zst   one record per game
#   <prefix>/manifests/<digest>.json                one per batch (the index)

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV2_AWS_62:Event notifications are configured by the caller (modules/stack: aws_s3_bucket_notification.archive sends new game records to SQS), next to the queue policy they depend on.
  #checkov:skip=CKV_AWS_144:No cross-region replication: every archived game is also written to PostgreSQL by the archiver, and versioning guards against overwrites; add replication where the region's durability is not enough.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # S3 Bucket Keys: far fewer KMS requests for many small objects.
    bucket_key_enabled = true
  }
}

# Note: by default S3 lifecycle does not transition objects smaller than
# 128 KiB (transition_default_minimum_object_size), and most game records are
# around 1 KB compressed: the transitions below move only large records
# (long games); small ones stay in STANDARD, where they are cheaper anyway.
#
# Retention: every object under the prefix (game records and the batch
# manifests that index them) expires expiration_days after it was written,
# which is when its game was archived (the hosts' archive.retention_days
# counts from the game's completion, the same day unless delivery was held
# up). The bucket is versioned, so expiring adds a delete marker (the game is
# gone from reads at once) and the data itself is deleted
# noncurrent_version_expiration_days later. Transitions that would not happen
# before expiry are left out (S3 refuses a transition on or after the
# expiration day).
locals {
  transitions = [
    for t in [
      { days = var.transition_to_ia_days, storage_class = "STANDARD_IA" },
      { days = var.transition_to_glacier_days, storage_class = "GLACIER" },
    ] : t if var.expiration_days == 0 || t.days < var.expiration_days
  ]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "replays-to-cold-storage"
    status = "Enabled"
    filter {
      prefix = "${var.prefix}/"
    }
    dynamic "transition" {
      for_each = local.transitions
      content {
        days          = transition.value.days
        storage_class = transition.value.storage_class
      }
    }
    dynamic "expiration" {
      for_each = var.expiration_days > 0 ? [var.expiration_days] : []
      content {
        days = expiration.value
      }
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  count         = var.access_log_bucket == null ? 0 : 1
  bucket        = aws_s3_bucket.this.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3-access/${var.bucket_name}/"
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid     = "DenyOldTls"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket     = aws_s3_bucket.this.id
  policy     = data.aws_iam_policy_document.bucket.json
  depends_on = [aws_s3_bucket_public_access_block.this]
}
