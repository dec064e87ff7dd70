# ElastiCache Redis for matchmaking tickets, the node registry and rate
# limits: encryption in transit (TLS) and at rest (KMS), an AUTH token kept in
# Secrets Manager, automatic failover across AZs, snapshots and slow-log
# delivery.

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "Redis: ingress 6379 only from the matchmaker and host nodes"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

# count, not for_each: the group ids are usually unknown until apply.
resource "aws_vpc_security_group_ingress_rule" "from_security_groups" {
  count                        = length(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "Redis from an allowed security group"
  referenced_security_group_id = var.allowed_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_vpc_security_group_ingress_rule" "from_cidrs" {
  for_each          = toset(var.allowed_cidr_blocks)
  security_group_id = aws_security_group.this.id
  description       = "Redis from an allowed network (host nodes)"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 6379
  to_port           = 6379
}

# The AUTH token: generated once, stored in Secrets Manager. The data source
# answers a new value on every plan; ignore_changes below keeps the first one
# (rotate deliberately: see infra/terraform/README.md).
data "aws_secretsmanager_random_password" "auth" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "auth" {
  #checkov:skip=CKV2_AWS_57:Rotating an ElastiCache AUTH token needs a coordinated ModifyReplicationGroup (ROTATE, then SET) and client restarts; it is a documented manual procedure (infra/terraform/README.md), not a Secrets Manager rotation Lambda.
  name                    = "${var.name}/redis-auth-token"
  description             = "AUTH token of the ${var.name} Redis replication group"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "auth" {
  secret_id     = aws_secretsmanager_secret.auth.id
  secret_string = data.aws_secretsmanager_random_password.auth.random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

resource "aws_cloudwatch_log_group" "slow_log" {
  name              = "/aws/elasticache/${var.name}/slow-log"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  #checkov:skip=CKV2_AWS_50:Failover and Multi-AZ follow var.num_cache_clusters: on with 3 nodes in environments/prod; dev runs a single node to save cost.
  replication_group_id = var.name
  description          = "Arcade matchmaking, node registry and rate limits"
  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  port                 = 6379
  num_cache_clusters   = var.num_cache_clusters

  automatic_failover_enabled = var.num_cache_clusters > 1
  multi_az_enabled           = var.num_cache_clusters > 1

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.this.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = aws_secretsmanager_secret_version.auth.secret_string
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit   = var.snapshot_retention_days
  snapshot_window            = "02:00-03:00"
  maintenance_window         = "sun:05:30-sun:06:30"
  auto_minor_version_upgrade = true
  apply_immediately          = false

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.slow_log.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  tags = var.tags

  lifecycle {
    ignore_changes = [auth_token]
  }
}
