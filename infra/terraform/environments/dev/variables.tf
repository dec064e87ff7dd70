variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "lambda_artifacts_dir" {
  description = "Where the Lambda zips are: <dir>/arcade-matchmaker/bootstrap.zip, <dir>/arcade-archiver/bootstrap.zip."
  type        = string
  default     = "../../../../target/lambda"
}

variable "host_node_cidrs" {
  description = "Networks of the host nodes (EKS nodes/pods); empty: the VPC CIDR."
  type        = list(string)
  default     = []
}

variable "jwt_issuer" {
  description = "OIDC issuer URL of player tokens (e.g. a Cognito user pool)."
  type        = string
}

variable "jwt_audience" {
  description = "Accepted audiences (app client ids) of player tokens."
  type        = list(string)
}

variable "alarm_actions" {
  description = "SNS topic ARNs for CloudWatch alarms."
  type        = list(string)
  default     = []
}
