variable "name" {
  description = "Identifier of the instance and prefix of its resources."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the instance."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (two AZs at least)."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups that may connect on 5432 (the archiver Lambda)."
  type        = list(string)
  default     = []
}

variable "allowed_cidr_blocks" {
  description = "Networks that may connect on 5432 (host nodes writing postgres:// archives)."
  type        = list(string)
  default     = []
}

variable "engine_major_version" {
  description = "PostgreSQL major version (parameter group family)."
  type        = string
  default     = "16"
}

variable "engine_version" {
  description = "PostgreSQL engine version (a major version: RDS picks and upgrades the minor)."
  type        = string
  default     = "16"
}

variable "instance_class" {
  description = "Instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "database_name" {
  description = "Database created with the instance."
  type        = string
  default     = "arcade"
}

variable "master_username" {
  description = "Master user (its password lives in Secrets Manager, managed by RDS)."
  type        = string
  default     = "arcade_admin"
}

variable "allocated_storage_gb" {
  description = "Initial storage."
  type        = number
  default     = 50
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling."
  type        = number
  default     = 500
}

variable "multi_az" {
  description = "Standby in a second AZ."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Automated backup retention."
  type        = number
  default     = 14
}

variable "deletion_protection" {
  description = "Refuse deletion (true in prod)."
  type        = bool
  default     = true
}

variable "final_snapshot" {
  description = "Take a final snapshot on deletion."
  type        = bool
  default     = true
}

variable "require_tls" {
  description = "rds.force_ssl. Note: the host's own postgres:// sink is built with sqlx `tls-none` and cannot connect while this is on."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights and the master secret."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
