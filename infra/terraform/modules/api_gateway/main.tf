# HTTP API in front of the matchmaker Lambda:
#   POST   /v1/matchmaking/tickets              create a ticket
#   GET    /v1/matchmaking/tickets/{ticket_id}  poll it (matched: room + seat token)
#   DELETE /v1/matchmaking/tickets/{ticket_id}  cancel it
#   GET    /v1/matchmaking/queues               the open queues
# exactly the routes lambda/matchmaker/src/http.rs documents and answers
# (tests/all/routes.rs compares them with local.routes below).
# Creating a ticket needs a player JWT from the configured OIDC issuer
# (Cognito or any other; the claims reach the function in
# requestContext.authorizer.jwt.claims of the payload 2.0 event). Polling and
# cancelling a ticket carry its secret as `Authorization: Bearer <secret>`
# (answered to its creator only; the function checks it, as a host node
# does), which a JWT authorizer on the same header would refuse, so those
# routes and the public queue list have no authorizer.

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "Arcade matchmaking API"

  cors_configuration {
    allow_origins = var.cors_allow_origins
    allow_methods = ["GET", "POST", "DELETE", "OPTIONS"]
    allow_headers = ["authorization", "content-type"]
    max_age       = 600
  }

  tags = var.tags
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  api_id           = aws_apigatewayv2_api.this.id
  name             = "${var.name}-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.jwt_issuer
    audience = var.jwt_audience
  }
}

resource "aws_apigatewayv2_integration" "matchmaker" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = var.matchmaker_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 10000
}

locals {
  # Route key => authorization type.
  routes = {
    "POST /v1/matchmaking/tickets"               = "JWT"
    "GET /v1/matchmaking/tickets/{ticket_id}"    = "NONE"
    "DELETE /v1/matchmaking/tickets/{ticket_id}" = "NONE"
    "GET /v1/matchmaking/queues"                 = "NONE"
  }
}

resource "aws_apigatewayv2_route" "matchmaker" {
  #checkov:skip=CKV_AWS_309:Only creating a ticket needs a player JWT; polling and cancelling are authorized by the ticket's secret in the Authorization header (checked by the function; a JWT authorizer would refuse it), the queue list is public as on the host nodes.
  for_each           = local.routes
  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.matchmaker.id}"
  authorization_type = each.value
  authorizer_id      = each.value == "JWT" ? aws_apigatewayv2_authorizer.jwt.id : null
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      authorizerError    = "$context.authorizer.error"
    })
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowInvokeFromHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = var.matchmaker_function_name
  principal     = "apigateway.amazonaws.com"
  # Every route above: /v1/matchmaking/tickets..., /v1/matchmaking/queues.
  source_arn = "${aws_apigatewayv2_api.this.execution_arn}/*/*/v1/matchmaking/*"
}
