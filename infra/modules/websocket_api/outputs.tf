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
