variable "name" {
  description = "Name prefix for the VPC and its resources."
  type        = string
}

variable "cidr_block" {
  description = "The VPC's CIDR block."
  type        = string
}

variable "availability_zones" {
  description = "One availability zone per private subnet."
  type        = list(string)
}

variable "private_subnet_cidrs" {
  description = "CIDR blocks of the private subnets, one per availability zone."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_cidrs) >= 2
    error_message = "RDS and ElastiCache subnet groups need at least two subnets (two AZs)."
  }
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints (the VPC has no NAT)."
  type        = list(string)
  default     = ["secretsmanager"]
}

variable "kms_key_arn" {
  description = "KMS key for the flow log group."
  type        = string
}

variable "log_retention_days" {
  description = "Flow log retention."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
