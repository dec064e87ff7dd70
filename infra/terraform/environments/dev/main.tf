# Development: one account, small and cheap: single-AZ PostgreSQL without
# deletion protection, one Redis node, a destroyable archive bucket.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "arcade"
      Environment = "dev"
      ManagedBy   = "terraform"
    }
  }
}

module "arcade" {
  source      = "../../modules/stack"
  name        = "arcade-dev"
  environment = "dev"

  vpc_cidr             = "10.40.0.0/16"
  availability_zones   = ["${var.region}a", "${var.region}b"]
  private_subnet_cidrs = ["10.40.0.0/20", "10.40.16.0/20"]
  host_node_cidrs      = var.host_node_cidrs

  archive_force_destroy          = true
  postgres_instance_class        = "db.t4g.micro"
  postgres_multi_az              = false
  postgres_backup_retention_days = 7
  deletion_protection            = false
  redis_node_type                = "cache.t4g.micro"
  redis_num_cache_clusters       = 1

  lambda_artifacts_dir            = var.lambda_artifacts_dir
  matchmaker_reserved_concurrency = 5
  archiver_reserved_concurrency   = 2
  archiver_max_concurrency        = 2

  jwt_issuer         = var.jwt_issuer
  jwt_audience       = var.jwt_audience
  cors_allow_origins = ["http://localhost:8080"]
  alarm_actions      = var.alarm_actions
}
