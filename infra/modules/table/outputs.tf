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
  value = local.stream_view_type == null ? null : "${local.arn}/stream/${aws_dynamodb_table.this.stream_label}"
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
  description = "Global secondary indexes as created: keys, projection and capacity (null on demand), by index name."
  value = { for g in aws_dynamodb_table.this.global_secondary_index : g.name => {
    partition_key  = g.hash_key
    sort_key       = g.range_key
    projection     = g.projection_type
    read_capacity  = g.read_capacity
    write_capacity = g.write_capacity
  } }
}

output "settings" {
  description = "The table's capacity, backups, encryption, stream and replicas as created."
  value = {
    billing_mode           = aws_dynamodb_table.this.billing_mode
    read_capacity          = aws_dynamodb_table.this.read_capacity
    write_capacity         = aws_dynamodb_table.this.write_capacity
    point_in_time_recovery = one(aws_dynamodb_table.this.point_in_time_recovery[*].enabled)
    kms_key_arn            = one(aws_dynamodb_table.this.server_side_encryption[*].kms_key_arn)
    stream_view_type       = aws_dynamodb_table.this.stream_enabled ? aws_dynamodb_table.this.stream_view_type : null
    replicas = { for r in aws_dynamodb_table.this.replica : r.region_name => {
      kms_key_arn            = r.kms_key_arn
      point_in_time_recovery = r.point_in_time_recovery
    } }
  }
}

output "alarms" {
  description = "Throttling alarms as created: metric, dimensions and who they notify."
  value = { for k, a in aws_cloudwatch_metric_alarm.throttles : k => {
    metric        = a.metric_name
    dimensions    = a.dimensions
    alarm_actions = a.alarm_actions
  } }
}
