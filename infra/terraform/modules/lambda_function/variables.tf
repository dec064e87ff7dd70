variable "function_name" {
  description = "Function name (arcade-matchmaker, arcade-archiver)."
  type        = string
}

variable "description" {
  description = "What the function does."
  type        = string
}

variable "zip_path" {
  description = "The deployment zip holding the `bootstrap` executable (target/lambda/<name>/bootstrap.zip)."
  type        = string
}

variable "architecture" {
  description = "Instruction set of the bootstrap binary."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture is arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB (CPU scales with it)."
  type        = number
  default     = 256
}

variable "timeout_seconds" {
  description = "Invocation timeout."
  type        = number
  default     = 30
}

variable "reserved_concurrency" {
  description = "Concurrency reserved for (and capping) the function; -1: unreserved."
  type        = number
  default     = -1
}

variable "environment" {
  description = "Environment variables (encrypted with kms_key_arn)."
  type        = map(string)
  default     = {}
}

variable "subnet_ids" {
  description = "Private subnets the function runs in."
  type        = list(string)
}

variable "security_group_ids" {
  description = "The function's security groups."
  type        = list(string)
}

variable "policy_json" {
  description = "IAM policy (JSON) for what the function itself accesses (required: its value is often unknown until apply, so it cannot be optional through count)."
  type        = string
}

variable "dead_letter_queue_arn" {
  description = "SQS queue for failed asynchronous invocations (null: none)."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "KMS key for the environment variables and the log group."
  type        = string
}

variable "log_retention_days" {
  description = "Log retention."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
