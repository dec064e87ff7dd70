output "api_id" {
  description = "The HTTP API."
  value       = aws_apigatewayv2_api.this.id
}

output "api_endpoint" {
  description = "Base URL of the matchmaking API."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "execution_arn" {
  description = "Execution ARN (for invoke permissions)."
  value       = aws_apigatewayv2_api.this.execution_arn
}
