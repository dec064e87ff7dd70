variable "name" {
  description = "API name."
  type        = string
}

variable "matchmaker_function_name" {
  description = "The matchmaker function (for the invoke permission)."
  type        = string
}

variable "matchmaker_invoke_arn" {
  description = "The matchmaker function's invoke ARN."
  type        = string
}

variable "jwt_issuer" {
  description = "OIDC issuer URL of player tokens (e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>)."
  type        = string
}

variable "jwt_audience" {
  description = "Accepted audiences (client ids) of player tokens."
  type        = list(string)
}

variable "cors_allow_origins" {
  description = "Origins of the browser client."
  type        = list(string)
  default     = []
}

variable "throttling_burst_limit" {
  description = "Stage-wide burst limit (requests)."
  type        = number
  default     = 500
}

variable "throttling_rate_limit" {
  description = "Stage-wide steady rate limit (requests per second)."
  type        = number
  default     = 200
}

variable "kms_key_arn" {
  description = "KMS key for the access log group."
  type        = string
}

variable "log_retention_days" {
  description = "Access log retention."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
