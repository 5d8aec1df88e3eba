output "name" {
  description = "Physical table name."
  value       = aws_dynamodb_table.this.name
}

output "arn" {
  description = "Table ARN."
  value       = local.arn
}

output "index_arns" {
  description = "ARN of each global secondary index, by index name (what IAM scopes Query on an index to)."
  value       = { for index in keys(var.indexes) : index => "${local.arn}/index/${index}" }
}

output "stream_arn" {
  description = "Latest stream ARN, or null when the table has no stream."
  # The same ARN DynamoDB reports, assembled so that it names its table even in mocked tests.
  value = var.stream_view_type == null ? null : "${local.arn}/stream/${aws_dynamodb_table.this.stream_label}"
}

output "alarm_arns" {
  description = "Throttling alarm ARNs, by '<metric>' or '<index>/<metric>'."
  value       = { for k, a in aws_cloudwatch_metric_alarm.throttles : k => a.arn }
}

output "ttl_attribute" {
  description = "Attribute DynamoDB TTL expires items by, or null."
  value       = one([for t in aws_dynamodb_table.this.ttl : t.attribute_name if t.enabled])
}

output "indexes" {
  description = "Global secondary indexes as created: keys and projection, by index name."
  value = { for g in aws_dynamodb_table.this.global_secondary_index : g.name => {
    partition_key = g.hash_key
    sort_key      = g.range_key
    projection    = g.projection_type
  } }
}

output "alarms" {
  description = "Throttling alarms as created: metric, dimensions and who they notify."
  value = { for k, a in aws_cloudwatch_metric_alarm.throttles : k => {
    metric        = a.metric_name
    dimensions    = a.dimensions
    alarm_actions = a.alarm_actions
  } }
}
