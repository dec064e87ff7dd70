output "host_archive_url" {
  description = "Set as archive-url in the arcade-secrets Secret (k8s)."
  value       = module.arcade.host_archive_url
}

output "host_redis_url" {
  description = "Set as redis-url in the arcade-secrets Secret (k8s): ARCADE_CLUSTER__REDIS_URL of the host nodes."
  value       = module.arcade.host_redis_url
  sensitive   = true
}

output "host_cluster_secret" {
  description = "Set as cluster-secret in the arcade-secrets Secret (k8s): ARCADE_CLUSTER__SECRET of the host nodes."
  value       = module.arcade.host_cluster_secret
  sensitive   = true
}

output "host_cluster_namespace" {
  description = "cluster.namespace of the host nodes (the matchmaker uses the same Redis keys)."
  value       = module.arcade.host_cluster_namespace
}

output "host_archive_policy_arn" {
  description = "Attach to the host nodes' S3 principal."
  value       = module.arcade.host_archive_policy_arn
}

output "matchmaking_api_endpoint" {
  description = "Base URL of the matchmaking API."
  value       = module.arcade.matchmaking_api_endpoint
}

output "redis_endpoint" {
  description = "Redis primary endpoint (TLS)."
  value       = module.arcade.redis_endpoint
}

output "postgres_endpoint" {
  description = "Archive database endpoint."
  value       = module.arcade.postgres_endpoint
}

output "finished_games_queue_url" {
  description = "Queue of finished-game batches."
  value       = module.arcade.finished_games_queue_url
}

output "postgres_master_secret_arn" {
  description = "Master credentials of the archive database (administration: CREATE USER arcade_archiver)."
  value       = module.arcade.postgres_master_secret_arn
}

output "archiver_db_secret_arn" {
  description = "Password of the arcade_archiver database role (CREATE USER ... PASSWORD)."
  value       = module.arcade.archiver_db_secret_arn
}
