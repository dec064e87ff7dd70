output "primary_endpoint" {
  description = "Primary endpoint address (TLS on port 6379: rediss://)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "port" {
  description = "Redis port."
  value       = aws_elasticache_replication_group.this.port
}

output "auth_secret_arn" {
  description = "Secrets Manager secret holding the AUTH token."
  value       = aws_secretsmanager_secret.auth.arn
}

output "security_group_id" {
  description = "The cluster's security group."
  value       = aws_security_group.this.id
}

output "auth_token" {
  description = "The AUTH token (the secret's first value; for the clients' rediss:// URLs)."
  value       = aws_secretsmanager_secret_version.auth.secret_string
  sensitive   = true
}
