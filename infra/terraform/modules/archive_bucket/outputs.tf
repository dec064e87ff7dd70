output "bucket_name" {
  description = "The archive bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "The archive bucket's ARN."
  value       = aws_s3_bucket.this.arn
}

output "prefix" {
  description = "The key prefix of archived games."
  value       = var.prefix
}

output "archive_url" {
  description = "ARCADE_ARCHIVE__URL for the hosts (credentials come from AWS_* variables)."
  value       = "s3://${aws_s3_bucket.this.id}/${var.prefix}?region=${aws_s3_bucket.this.region}"
}

output "lifecycle_rules" {
  description = "The bucket's lifecycle rules (transitions and retention), as planned."
  value       = aws_s3_bucket_lifecycle_configuration.this.rule
}
