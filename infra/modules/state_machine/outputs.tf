output "arn" {
  description = "State machine ARN."
  value       = local.arn
}

output "name" {
  description = "State machine name."
  value       = aws_sfn_state_machine.this.name
}

output "role_arn" {
  description = "ARN of the state machine's own role."
  value       = aws_iam_role.this.arn
}

output "policy" {
  description = "The role's policy document (JSON), or null when it needs none."
  value       = one(aws_iam_role_policy.this[*].policy)
}

output "alarm_arns" {
  description = "Execution alarm ARNs by metric (ExecutionsFailed, ExecutionsTimedOut)."
  value       = { for k, a in aws_cloudwatch_metric_alarm.executions : k => a.arn }
}

output "alarms" {
  description = "Execution alarms as created: metric, dimensions and who they notify."
  value = { for k, a in aws_cloudwatch_metric_alarm.executions : k => {
    metric        = a.metric_name
    dimensions    = a.dimensions
    alarm_actions = a.alarm_actions
  } }
}

output "logging" {
  description = "Log level and X-Ray tracing as configured."
  value = {
    level   = aws_sfn_state_machine.this.logging_configuration[0].level
    tracing = aws_sfn_state_machine.this.tracing_configuration[0].enabled
  }
}
