locals {
  # Keyed and filtered on what the description fixes (names, which target), never on ARNs unknown until apply.
  start_routes         = { for k, r in var.routes : k => r.state_machine if r.state_machine != null }
  functions            = { for r in values(var.routes) : r.function.name => r.function.invoke_arn... if r.function != null }
  started_machine_arns = distinct([for r in values(local.start_routes) : r.arn])
}

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"

  dynamic "cors_configuration" {
    for_each = length(var.cors_allowed_origins) == 0 ? [] : [1]
    content {
      allow_origins     = var.cors_allowed_origins
      allow_methods     = var.cors.allow_methods
      allow_headers     = var.cors.allow_headers
      expose_headers    = var.cors.expose_headers
      max_age           = var.cors.max_age
      allow_credentials = var.cors.allow_credentials
    }
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
    audience = var.jwt_audiences
  }
}

# One proxy integration per function, shared by its routes.
resource "aws_apigatewayv2_integration" "function" {
  for_each = local.functions

  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = each.value[0]
  payload_format_version = "2.0"
}

resource "aws_lambda_permission" "invoke" {
  for_each = local.functions

  statement_id  = "${var.name}-invoke"
  action        = "lambda:InvokeFunction"
  function_name = each.key
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}

# Routes with "startExecution": API Gateway calls StartExecution itself, no Lambda in between.
resource "aws_iam_role" "start_execution" {
  count = length(local.start_routes) == 0 ? 0 : 1

  name        = "${var.name}-start-execution"
  description = "Lets ${var.name} start exactly the state machines its routes name."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "apigateway.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "start_execution" {
  count = length(local.start_routes) == 0 ? 0 : 1

  name = "${var.name}-start-execution"
  role = aws_iam_role.start_execution[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "StartRouteStateMachines"
      Effect   = "Allow"
      Action   = ["states:StartExecution"]
      Resource = local.started_machine_arns
    }]
  })
}

# One integration per route: each carries its route's mapping of the request onto StartExecution
# (Name, Input, ...: API Gateway's parameter mapping, evaluated per request).
resource "aws_apigatewayv2_integration" "start_execution" {
  for_each = local.start_routes

  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_subtype    = "StepFunctions-StartExecution"
  credentials_arn        = aws_iam_role.start_execution[0].arn
  payload_format_version = "1.0"
  request_parameters = merge(
    { Input = "$request.body" },
    each.value.request_parameters,
    { StateMachineArn = each.value.arn },
  )

  depends_on = [aws_iam_role_policy.start_execution]
}

resource "aws_apigatewayv2_route" "this" {
  for_each = var.routes

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  authorization_type = each.value.auth ? "JWT" : "NONE"
  authorizer_id      = each.value.auth ? aws_apigatewayv2_authorizer.jwt.id : null
  target = "integrations/${each.value.function != null
    ? aws_apigatewayv2_integration.function[each.value.function.name].id
  : aws_apigatewayv2_integration.start_execution[each.key].id}"
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
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
      requestId = "$context.requestId"
      routeKey  = "$context.routeKey"
      status    = "$context.status"
      latencyMs = "$context.responseLatency"
      sub       = "$context.authorizer.claims.sub"
      error     = "$context.integrationErrorMessage"
    })
  }

  tags = var.tags
}
