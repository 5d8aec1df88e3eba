output "id" {
  description = "API id."
  value       = aws_apigatewayv2_api.this.id
}

output "url" {
  description = "wss:// URL clients connect to."
  value       = aws_apigatewayv2_stage.this.invoke_url
}

output "callback_url" {
  description = "https:// URL of the @connections API that handlers push through (WEBSOCKET_CALLBACK_URL)."
  value       = "https://${aws_apigatewayv2_api.this.id}.execute-api.${data.aws_region.current.name}.amazonaws.com/${var.stage}"
}

output "connections_arns" {
  description = "execute-api ARNs of POST, GET and DELETE on @connections of this stage: what ManageConnections is scoped to."
  value       = [for method in ["POST", "GET", "DELETE"] : "${aws_apigatewayv2_api.this.execution_arn}/${var.stage}/${method}/@connections/*"]
}

output "authorizer" {
  description = "The $connect authorizer (id, type, identity sources, function URI), or null."
  value = var.authorizer == null ? null : {
    id               = aws_apigatewayv2_authorizer.connect[0].id
    type             = aws_apigatewayv2_authorizer.connect[0].authorizer_type
    identity_sources = aws_apigatewayv2_authorizer.connect[0].identity_sources
    uri              = aws_apigatewayv2_authorizer.connect[0].authorizer_uri
    permission_arn   = aws_lambda_permission.authorizer[0].source_arn
  }
}

output "route_authorization" {
  description = "Authorization type and authorizer id of each route, by route key."
  value       = { for k, r in aws_apigatewayv2_route.this : k => { type = r.authorization_type, authorizer_id = r.authorizer_id } }
}
