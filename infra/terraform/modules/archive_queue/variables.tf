variable "name" {
  description = "Queue name (the DLQ is <name>-dlq)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for SQS server-side encryption (its policy must let S3 use it when S3 notifies the queue)."
  type        = string
}

variable "visibility_timeout_seconds" {
  description = "At least six times the archiver's timeout (AWS guidance for Lambda event sources)."
  type        = number
  default     = 360
}

variable "message_retention_seconds" {
  description = "How long an unprocessed message is kept."
  type        = number
  default     = 345600 # 4 days
}

variable "max_receive_count" {
  description = "Receives before a message moves to the DLQ."
  type        = number
  default     = 5
}

variable "source_bucket_arn" {
  description = "Bucket allowed to send S3 event notifications to the queue (null: none)."
  type        = string
  default     = null
}

variable "source_account_id" {
  description = "Account owning source_bucket_arn."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
