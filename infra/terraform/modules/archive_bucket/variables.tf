variable "bucket_name" {
  description = "Globally unique bucket name."
  type        = string
}

variable "prefix" {
  description = "Key prefix the hosts write under (the path of ARCADE_ARCHIVE__URL=s3://bucket/<prefix>)."
  type        = string
  default     = "games"
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS."
  type        = string
}

variable "transition_to_ia_days" {
  description = "Days after which replays move to STANDARD_IA."
  type        = number
  default     = 30
}

variable "transition_to_glacier_days" {
  description = "Days after which replays move to GLACIER (Flexible Retrieval)."
  type        = number
  default     = 180
}

variable "expiration_days" {
  description = "Retention: days after which archived games (records and manifests) expire; 0 keeps them forever. Keep equal to the hosts' archive.retention_days."
  type        = number
  default     = 90
  validation {
    condition     = var.expiration_days >= 0 && floor(var.expiration_days) == var.expiration_days
    error_message = "expiration_days is a whole number of days, 0 (keep forever) or more."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten object versions are deleted (idempotent re-archiving overwrites)."
  type        = number
  default     = 30
}

variable "access_log_bucket" {
  description = "Bucket receiving S3 server access logs (null: none)."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Allow destroying a non-empty bucket (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
