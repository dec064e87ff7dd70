# Production: three AZs, Multi-AZ PostgreSQL with deletion protection and
# 30 days of backups, Redis with a replica and automatic failover.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "arcade"
      Environment = "prod"
      ManagedBy   = "terraform"
    }
  }
}

module "arcade" {
  source      = "../../modules/stack"
  name        = "arcade-prod"
  environment = "prod"

  vpc_cidr             = "10.50.0.0/16"
  availability_zones   = ["${var.region}a", "${var.region}b", "${var.region}c"]
  private_subnet_cidrs = ["10.50.0.0/19", "10.50.32.0/19", "10.50.64.0/19"]
  host_node_cidrs      = var.host_node_cidrs

  postgres_instance_class        = "db.r7g.large"
  postgres_multi_az              = true
  postgres_backup_retention_days = 30
  deletion_protection            = true
  redis_node_type                = "cache.r7g.large"
  redis_num_cache_clusters       = 3
  access_log_bucket              = var.access_log_bucket

  lambda_artifacts_dir            = var.lambda_artifacts_dir
  matchmaker_reserved_concurrency = 100
  archiver_reserved_concurrency   = 20
  archiver_max_concurrency        = 10

  jwt_issuer         = var.jwt_issuer
  jwt_audience       = var.jwt_audience
  cors_allow_origins = var.cors_allow_origins
  alarm_actions      = var.alarm_actions
}
