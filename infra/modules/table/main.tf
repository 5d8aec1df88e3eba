data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # Built rather than read back: IAM policies that use it are then known, and reviewable, at plan time.
  arn = "arn:${data.aws_partition.current.partition}:dynamodb:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:table/${aws_dynamodb_table.this.name}"

  provisioned = var.billing_mode == "PROVISIONED"

  # Global tables replicate through a NEW_AND_OLD_IMAGES stream: a replicated table gets one
  # even when nothing reads it (a declared stream of another view type fails the precondition).
  replicated       = length(var.replicas) > 0
  stream_view_type = local.replicated ? "NEW_AND_OLD_IMAGES" : var.stream_view_type

  # Every key attribute of the table and its indexes, once each (DynamoDB rejects unused definitions).
  attributes = merge(
    { (var.partition_key.name) = var.partition_key.type },
    var.sort_key == null ? {} : { (var.sort_key.name) = var.sort_key.type },
    merge([for i in values(var.indexes) : merge(
      { (i.partition_key.name) = i.partition_key.type },
      i.sort_key == null ? {} : { (i.sort_key.name) = i.sort_key.type },
    )]...),
  )

  # One alarm per throttle metric of the table and of each index: a throttled index blocks table writes too.
  throttle_alarms = !var.throttle_alarms ? {} : merge(
    { for metric in ["ReadThrottleEvents", "WriteThrottleEvents"] : metric => {
      index  = null
      metric = metric
    } },
    merge([for index in keys(var.indexes) : { for metric in ["ReadThrottleEvents", "WriteThrottleEvents"] :
      "${index}/${metric}" => { index = index, metric = metric }
    }]...),
  )
}

resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = var.billing_mode
  read_capacity               = local.provisioned ? var.read_capacity : null
  write_capacity              = local.provisioned ? var.write_capacity : null
  hash_key                    = var.partition_key.name
  range_key                   = var.sort_key == null ? null : var.sort_key.name
  stream_enabled              = local.stream_view_type != null
  stream_view_type            = local.stream_view_type
  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    for_each = local.attributes
    content {
      name = attribute.key
      type = attribute.value
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.indexes
    content {
      name            = global_secondary_index.key
      hash_key        = global_secondary_index.value.partition_key.name
      range_key       = global_secondary_index.value.sort_key == null ? null : global_secondary_index.value.sort_key.name
      projection_type = global_secondary_index.value.projection
      read_capacity   = local.provisioned ? coalesce(global_secondary_index.value.read_capacity, var.read_capacity) : null
      write_capacity  = local.provisioned ? coalesce(global_secondary_index.value.write_capacity, var.write_capacity) : null
    }
  }

  dynamic "ttl" {
    for_each = var.ttl_attribute == null ? [] : [var.ttl_attribute]
    content {
      enabled        = true
      attribute_name = ttl.value
    }
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  dynamic "replica" {
    for_each = var.replicas
    content {
      region_name            = replica.value.region
      kms_key_arn            = replica.value.kms_key_arn
      point_in_time_recovery = coalesce(replica.value.point_in_time_recovery, var.point_in_time_recovery)
      propagate_tags         = true
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      # AWS: a global table is on demand, or provisioned with auto scaling (which this module
      # does not create), so that every replica can absorb the replicated writes.
      condition     = !local.replicated || !local.provisioned
      error_message = "Table ${var.name} is PROVISIONED and replicated to ${join(", ", [for r in var.replicas : r.region])}: DynamoDB global tables need PAY_PER_REQUEST (or auto scaling, not created here). Make it on demand for this environment (table_capacity), or opt it out of replication (\"replicated\": false in the description)."
    }
    precondition {
      condition     = !local.replicated || var.stream_view_type == null || var.stream_view_type == "NEW_AND_OLD_IMAGES"
      error_message = "Table ${var.name} streams ${coalesce(var.stream_view_type, "-")}: a replicated table's stream must be NEW_AND_OLD_IMAGES."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  for_each = local.throttle_alarms

  alarm_name        = each.value.index == null ? "${var.name}-${each.value.metric}" : "${var.name}-${each.value.index}-${each.value.metric}"
  alarm_description = "DynamoDB is throttling ${each.value.index == null ? "table" : "index ${each.value.index} of"} ${var.name}: raise capacity or spread the keys."
  namespace         = "AWS/DynamoDB"
  metric_name       = each.value.metric
  dimensions = merge(
    { TableName = aws_dynamodb_table.this.name },
    each.value.index == null ? {} : { GlobalSecondaryIndexName = each.value.index },
  )
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.throttle_alarm_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
