variable "name" {
  description = "Name prefix of every resource (e.g. arcade-prod)."
  type        = string
}

variable "environment" {
  description = "Environment name (dev, prod), for tags."
  type        = string
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# ---- network ----

variable "vpc_cidr" {
  description = "CIDR of the VPC."
  type        = string
}

variable "availability_zones" {
  description = "Availability zones, one private subnet each."
  type        = list(string)
}

variable "private_subnet_cidrs" {
  description = "Private subnet CIDRs, one per availability zone."
  type        = list(string)
}

variable "host_node_cidrs" {
  description = "Networks of the host nodes (EKS nodes/pods): Redis and (optionally) PostgreSQL accept them, the matchmaker calls them. Empty: the VPC CIDR."
  type        = list(string)
  default     = []
}

variable "host_port" {
  description = "The host nodes' HTTP port (arcade serve --listen)."
  type        = number
  default     = 8080
}

# ---- archive ----

variable "archive_prefix" {
  description = "Key prefix of archived games (ARCADE_ARCHIVE__URL=s3://<bucket>/<prefix>)."
  type        = string
  default     = "games"
}

variable "archive_transition_to_ia_days" {
  description = "Days before replays move to STANDARD_IA."
  type        = number
  default     = 30
}

variable "archive_transition_to_glacier_days" {
  description = "Days before replays move to GLACIER."
  type        = number
  default     = 180
}

variable "archive_retention_days" {
  description = "Retention: days after which archived games expire from the bucket (its lifecycle rule) and from PostgreSQL (the archiver's daily archive-expiry run, ARCADE_ARCHIVE_RETENTION_DAYS); 0 keeps them forever. Keep equal to the hosts' archive.retention_days (infra/k8s/base/arcade.toml)."
  type        = number
  default     = 90

  validation {
    condition     = var.archive_retention_days >= 0 && floor(var.archive_retention_days) == var.archive_retention_days
    error_message = "archive_retention_days is a whole number of days, 0 (keep forever) or more."
  }
}

variable "archive_expiry_schedule" {
  description = "EventBridge schedule of the archiver's retention run over PostgreSQL (only when archive_retention_days > 0)."
  type        = string
  default     = "rate(1 day)"
}

variable "archive_force_destroy" {
  description = "Allow destroying a non-empty archive bucket (dev only)."
  type        = bool
  default     = false
}

variable "access_log_bucket" {
  description = "Existing bucket for S3 server access logs of the archive (null: none)."
  type        = string
  default     = null
}

# ---- databases ----

variable "postgres_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "postgres_multi_az" {
  description = "RDS Multi-AZ standby."
  type        = bool
  default     = true
}

variable "postgres_backup_retention_days" {
  description = "RDS automated backup retention."
  type        = number
  default     = 14
}

variable "postgres_require_tls" {
  description = "rds.force_ssl on the archive database."
  type        = bool
  default     = true
}

variable "hosts_write_postgres" {
  description = "Let host nodes reach PostgreSQL directly (ARCADE_ARCHIVE__URL=postgres://...) instead of archiving through S3 and the archiver."
  type        = bool
  default     = false
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "redis_num_cache_clusters" {
  description = "Redis primary plus replicas (2+: automatic failover, Multi-AZ)."
  type        = number
  default     = 2
}

variable "deletion_protection" {
  description = "Deletion protection and a final snapshot for the database."
  type        = bool
  default     = true
}

# ---- Lambda functions ----

variable "lambda_name_suffix" {
  description = "Appended to the function (and role) names arcade-matchmaker / arcade-archiver; empty when each environment has its own account (recommended)."
  type        = string
  default     = ""
}

variable "lambda_artifacts_dir" {
  description = "Directory holding <function>/bootstrap.zip (the repository's target/lambda)."
  type        = string
}

variable "matchmaker_memory_size" {
  description = "Matchmaker memory (MB)."
  type        = number
  default     = 256
}

variable "matchmaker_timeout_seconds" {
  description = "Matchmaker timeout; the scheduled match run may loop until shortly before it."
  type        = number
  default     = 60
}

variable "matchmaker_reserved_concurrency" {
  description = "Concurrency reserved for the matchmaker."
  type        = number
  default     = 50
}

variable "cluster_namespace" {
  description = "Redis key prefix shared with the host nodes (ARCADE_CLUSTER_NAMESPACE): must equal the nodes' cluster.namespace (their default: arcade). The matchmaker derives <ns>:mm (tickets, queues) and <ns>:nodes (node directory) from it, as the nodes do."
  type        = string
  default     = "arcade"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.:-]+$", var.cluster_namespace))
    error_message = "A non-empty Redis key prefix: letters, digits, '_', '.', ':' or '-'."
  }
}

variable "matchmaking_default_mode" {
  description = "Mode of tickets that name none (ARCADE_MM_DEFAULT_MODE): must equal the nodes' matchmaking.default_mode (their default: standard)."
  type        = string
  default     = "standard"
}

variable "matchmaking_default_region" {
  description = "Region of tickets that give no latencies (ARCADE_MM_DEFAULT_REGION): must equal the nodes' matchmaking.default_region (their default: local)."
  type        = string
  default     = "local"
}

variable "matchmaking_queues" {
  description = "Matchmaking queues (ARCADE_MM_QUEUES, as JSON): one per game and mode, with the players per match."
  type = list(object({
    game              = string
    mode              = string
    players_per_match = number
  }))
  default = [{ game = "tic-tac-toe", mode = "standard", players_per_match = 2 }]

  validation {
    condition     = length(var.matchmaking_queues) > 0 && alltrue([for q in var.matchmaking_queues : q.players_per_match >= 2 && floor(q.players_per_match) == q.players_per_match])
    error_message = "At least one queue; players_per_match is a whole number >= 2."
  }
}

variable "matchmaker_environment" {
  description = "Extra environment variables for the matchmaker."
  type        = map(string)
  default     = {}
}

variable "archiver_memory_size" {
  description = "Archiver memory (MB)."
  type        = number
  default     = 512
}

variable "archiver_timeout_seconds" {
  description = "Archiver timeout (the queue's visibility timeout is six times this)."
  type        = number
  default     = 60
}

variable "archiver_reserved_concurrency" {
  description = "Concurrency reserved for the archiver (>= archiver_max_concurrency)."
  type        = number
  default     = 10
}

variable "archiver_max_concurrency" {
  description = "Maximum concurrent archiver invocations from SQS (bounds PostgreSQL connections)."
  type        = number
  default     = 5
}

variable "archiver_batch_size" {
  description = "SQS messages per archiver invocation."
  type        = number
  default     = 10
}

variable "archiver_db_user" {
  description = "PostgreSQL role the archiver connects as, with the password in the <name>/archiver-db-password secret (CREATE USER ... PASSWORD ...)."
  type        = string
  default     = "arcade_archiver"
}

variable "archiver_environment" {
  description = "Extra environment variables for the archiver."
  type        = map(string)
  default     = {}
}

variable "matchmaker_player_claim" {
  description = "The claim of the player's JWT (verified by the API's JWT authorizer) that holds the player's Arcade account id, read by the matchmaker Lambda as ARCADE_MM_PLAYER_CLAIM. Default `sub`: the identity provider's subject is the account id."
  type        = string
  default     = "sub"

  validation {
    condition     = can(regex("^[A-Za-z0-9_:.-]{1,128}$", var.matchmaker_player_claim))
    error_message = "matchmaker_player_claim is a claim name: 1 to 128 of A-Z a-z 0-9 _ : . -."
  }
}

variable "matchmaking_region_fallback" {
  description = "Where the matchmaker Lambda's rounds place matches of a full region, as the nodes' cluster.region_fallback: { eu-west-1 = [\"us-east-1\", \"*\"] } (\"*\": any other region, last). Passed as JSON in ARCADE_MM_REGION_FALLBACK. Default {}: no region falls back (a full region's matches wait). Keep equal to the nodes' setting."
  type        = map(list(string))
  default     = {}

  validation {
    condition = alltrue([for region, next in var.matchmaking_region_fallback :
      can(regex("^[a-z0-9][a-z0-9-]{0,63}$", region)) && length(distinct(next)) == length(next) &&
      alltrue([for i, n in next : n == "*" ? i == length(next) - 1 : (n != region && can(regex("^[a-z0-9][a-z0-9-]{0,63}$", n)))])
    ])
    error_message = "matchmaking_region_fallback: region names (lowercase letters, digits, '-'), each list without its own region or repeats, \"*\" only last."
  }
}

variable "match_run_schedule" {
  description = "EventBridge schedule of the match run (rate(1 minute) is the finest)."
  type        = string
  default     = "rate(1 minute)"
}

# ---- API ----

variable "jwt_issuer" {
  description = "OIDC issuer of player tokens for the matchmaking API."
  type        = string
}

variable "jwt_audience" {
  description = "Accepted audiences of player tokens."
  type        = list(string)
}

variable "cors_allow_origins" {
  description = "Browser client origins allowed by the matchmaking API."
  type        = list(string)
  default     = []
}

variable "alarm_actions" {
  description = "SNS topics notified by the CloudWatch alarms."
  type        = list(string)
  default     = []
}
