data "aws_region" "current" {}

locals {
  functions = { for r in values(var.routes) : r.function_name => r.function_invoke_arn... }
}

resource "aws_apigatewayv2_api" "this" {
  name                       = var.name
  protocol_type              = "WEBSOCKET"
  route_selection_expression = var.route_selection_expression
  tags                       = var.tags
}

resource "aws_apigatewayv2_integration" "function" {
  for_each = local.functions

  api_id             = aws_apigatewayv2_api.this.id
  integration_type   = "AWS_PROXY"
  integration_method = "POST"
  integration_uri    = each.value[0]
}

resource "aws_lambda_permission" "invoke" {
  for_each = local.functions

  statement_id  = "${var.name}-invoke"
  action        = "lambda:InvokeFunction"
  function_name = each.key
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/${var.stage}/*"
}

# The Lambda REQUEST authorizer of $connect: API Gateway refuses a handshake without the identity
# sources (401) before calling it, and keeps the context it returns for every route of the connection.
resource "aws_apigatewayv2_authorizer" "connect" {
  count = var.authorizer == null ? 0 : 1

  api_id           = aws_apigatewayv2_api.this.id
  name             = var.authorizer.name
  authorizer_type  = "REQUEST"
  authorizer_uri   = var.authorizer.function_invoke_arn
  identity_sources = var.authorizer.identity_sources
}

resource "aws_lambda_permission" "authorizer" {
  count = var.authorizer == null ? 0 : 1

  statement_id  = "${var.name}-authorizer"
  action        = "lambda:InvokeFunction"
  function_name = var.authorizer.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.connect[0].id}"
}

resource "aws_apigatewayv2_route" "this" {
  for_each = var.routes

  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.function[each.value.function_name].id}"
  # WebSocket APIs authorize the handshake only; messages inherit the connection's identity.
  authorization_type = each.key == "$connect" && var.authorizer != null ? "CUSTOM" : "NONE"
  authorizer_id      = each.key == "$connect" && var.authorizer != null ? aws_apigatewayv2_authorizer.connect[0].id : null
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = var.stage
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }

  tags = var.tags

  # A stage deploys the routes present when it is created; later changes auto-deploy.
  depends_on = [aws_apigatewayv2_route.this]
}
