output "http_api_url" {
  description = "Base URL of the HTTP API."
  value       = module.http_api.url
}

output "websocket_url" {
  description = "wss:// URL game clients connect to, or null when the description has no WebSocket API."
  value       = local.websocket_api.enabled ? module.websocket_api[0].url : null
}

output "websocket_callback_url" {
  description = "https:// @connections endpoint handlers push through (WEBSOCKET_CALLBACK_URL), or null."
  value       = local.websocket_api.enabled ? module.websocket_api[0].callback_url : null
}

output "table_names" {
  description = "Physical table name by logical name."
  value       = { for k, t in module.tables : k => t.name }
}

output "state_machine_arns" {
  description = "State machine ARN by logical name."
  value       = { for k, s in module.state_machines : k => s.arn }
}

output "function_names" {
  description = "Lambda function name by logical name."
  value       = { for k, f in module.functions : k => f.name }
}

output "queue_urls" {
  description = "Queue URL by logical name, dead-letter queues (<name>_dlq) included."
  value       = { for k, q in local.queue_refs : k => q.url }
}

output "cognito_user_pool_id" {
  description = "The user pool this configuration created, or null when jwt_issuer was given."
  value       = one(aws_cognito_user_pool.players[*].id)
}

output "cognito_app_client_id" {
  description = "App client id games sign in with (the JWT audience), or null when jwt_issuer was given."
  value       = one(aws_cognito_user_pool_client.game[*].id)
}

output "alarm_topic_arns" {
  description = "SNS topics every alarm notifies (the created one, the given ones, or none)."
  value       = local.alarm_actions
}

output "environment" {
  description = "The environment the deployment file was resolved for, or null (default names)."
  value       = local.deployment.environment
}

output "jwt_issuer" {
  description = "Issuer whose tokens both APIs accept (the created user pool's, or jwt_issuer)."
  value       = local.jwt_issuer
}

output "jwt_audiences" {
  description = "App client ids both APIs accept as a token's aud (id tokens) or client_id (access tokens)."
  value       = local.jwt_audiences
}

output "jwt_jwks_url" {
  description = "Where the WebSocket $connect authorizer fetches the issuer's signing keys."
  value       = local.jwt_jwks_url
}
