output "id" {
  description = "API id."
  value       = aws_apigatewayv2_api.this.id
}

output "url" {
  description = "Base URL of the API ($default stage)."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "route_targets" {
  description = "Integration id of each route key."
  value       = { for k, r in aws_apigatewayv2_route.this : k => r.target }
}

output "start_execution_role_arn" {
  description = "Role API Gateway assumes to start state machines, or null when no route does."
  value       = one(aws_iam_role.start_execution[*].arn)
}

output "start_execution_policy" {
  description = "That role's policy (JSON), or null."
  value       = one(aws_iam_role_policy.start_execution[*].policy)
}

output "start_execution_integrations" {
  description = "StepFunctions-StartExecution integrations as created, by route key."
  value = { for k, i in aws_apigatewayv2_integration.start_execution : k => {
    subtype           = i.integration_subtype
    state_machine_arn = i.request_parameters["StateMachineArn"]
    name              = lookup(i.request_parameters, "Name", null)
    input             = i.request_parameters["Input"]
    credentials_arn   = i.credentials_arn
  } }
}
