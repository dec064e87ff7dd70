output "kms_key_arn" {
  description = "The environment's KMS key."
  value       = aws_kms_key.this.arn
}

output "vpc_id" {
  description = "The VPC."
  value       = module.network.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnets."
  value       = module.network.private_subnet_ids
}

output "archive_bucket" {
  description = "The archive bucket."
  value       = module.archive_bucket.bucket_name
}

output "host_archive_url" {
  description = "ARCADE_ARCHIVE__URL for host nodes (arcade-secrets / archive-url)."
  value       = module.archive_bucket.archive_url
}

output "host_redis_url" {
  description = "ARCADE_CLUSTER__REDIS_URL for host nodes (arcade-secrets / redis-url): the matchmaker's Redis, TLS, with the AUTH token."
  value       = local.redis_url
  sensitive   = true
}

output "host_cluster_secret" {
  description = "ARCADE_CLUSTER__SECRET for host nodes (arcade-secrets / cluster-secret): the matchmaker's cluster secret."
  value       = aws_secretsmanager_secret_version.cluster.secret_string
  sensitive   = true
}

output "host_cluster_namespace" {
  description = "cluster.namespace the host nodes must use (ARCADE_CLUSTER__NAMESPACE; unset on the nodes means arcade)."
  value       = var.cluster_namespace
}

output "host_archive_policy_arn" {
  description = "IAM policy to attach to the host nodes' S3 principal."
  value       = aws_iam_policy.host_archive.arn
}

output "finished_games_queue_url" {
  description = "Queue of finished-game batches."
  value       = module.archive_queue.queue_url
}

output "postgres_endpoint" {
  description = "Archive database endpoint."
  value       = module.postgres.endpoint
}

output "postgres_master_secret_arn" {
  description = "Master credentials (administration only)."
  value       = module.postgres.master_user_secret_arn
}

output "redis_endpoint" {
  description = "Redis primary endpoint (TLS)."
  value       = module.redis.primary_endpoint
}

output "archiver_db_secret_arn" {
  description = "Secret holding the archiver's PostgreSQL password (CREATE USER ... PASSWORD)."
  value       = aws_secretsmanager_secret.archiver_db.arn
}

output "redis_auth_secret_arn" {
  description = "Secret holding the Redis AUTH token."
  value       = module.redis.auth_secret_arn
}

output "matchmaking_api_endpoint" {
  description = "Base URL of the matchmaking API."
  value       = module.api.api_endpoint
}

output "matchmaker_function_name" {
  description = "The matchmaker function."
  value       = module.matchmaker.function_name
}

output "archiver_function_name" {
  description = "The archiver function."
  value       = module.archiver.function_name
}
