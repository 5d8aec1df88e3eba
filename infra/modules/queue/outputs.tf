output "url" {
  description = "Queue URL."
  value       = aws_sqs_queue.this.url
}

output "arn" {
  description = "Queue ARN."
  value       = "${local.arn_prefix}:${aws_sqs_queue.this.name}"
}

output "dead_letter_url" {
  description = "Dead-letter queue URL, or null."
  value       = one(aws_sqs_queue.dead_letter[*].url)
}

output "dead_letter_arn" {
  description = "Dead-letter queue ARN, or null."
  value       = one([for q in aws_sqs_queue.dead_letter : "${local.arn_prefix}:${q.name}"])
}

output "dead_letter_alarm_arn" {
  description = "ARN of the dead-letter depth alarm, or null."
  value       = one(aws_cloudwatch_metric_alarm.dead_letter_depth[*].arn)
}

output "alarms" {
  description = "Depth alarms as created: dead_letter_depth (its dead-letter queue) and failures_depth (holds_failures)."
  value = merge(
    { for a in aws_cloudwatch_metric_alarm.dead_letter_depth : "dead_letter_depth" => {
      metric        = a.metric_name
      dimensions    = a.dimensions
      alarm_actions = a.alarm_actions
    } },
    { for a in aws_cloudwatch_metric_alarm.failures_depth : "failures_depth" => {
      metric        = a.metric_name
      dimensions    = a.dimensions
      alarm_actions = a.alarm_actions
    } },
  )
}
