# What host nodes need in AWS: a policy for their S3 archive sink
# (ARCADE_ARCHIVE__URL=s3://<bucket>/<prefix>?region=<region>). Attach it to
# the principal whose keys the hosts use (AWS_ACCESS_KEY_ID /
# AWS_SECRET_ACCESS_KEY in the arcade-secrets Secret): the host's S3 client
# reads static keys from the environment, not IRSA / pod identity (yet).

data "aws_iam_policy_document" "host_archive" {
  statement {
    sid       = "ListArchive"
    actions   = ["s3:ListBucket"]
    resources = [module.archive_bucket.bucket_arn]
  }

  statement {
    sid       = "ReadWriteArchive"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${module.archive_bucket.bucket_arn}/${var.archive_prefix}/*"]
  }

  statement {
    sid       = "UseArchiveKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_policy" "host_archive" {
  name        = "${var.name}-host-archive"
  description = "Arcade host nodes: write finished games to the archive bucket"
  policy      = data.aws_iam_policy_document.host_archive.json
  tags        = local.tags
}
