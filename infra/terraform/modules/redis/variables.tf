variable "name" {
  description = "Replication group id and prefix of its resources."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (two AZs at least for failover)."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups that may connect on 6379 (the matchmaker Lambda)."
  type        = list(string)
  default     = []
}

variable "allowed_cidr_blocks" {
  description = "Networks that may connect on 6379 (host nodes: node registry, shared rate limits)."
  type        = list(string)
  default     = []
}

variable "engine_version" {
  description = "Redis engine version."
  type        = string
  default     = "7.1"
}

variable "node_type" {
  description = "Cache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "num_cache_clusters" {
  description = "Primary plus replicas; 2 or more enables automatic failover and Multi-AZ."
  type        = number
  default     = 2
}

variable "snapshot_retention_days" {
  description = "Daily snapshot retention (0 disables snapshots)."
  type        = number
  default     = 7
}

variable "log_retention_days" {
  description = "Slow-log retention."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key for at-rest encryption, the AUTH secret and the log group."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
