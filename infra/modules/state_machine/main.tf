data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # The same ARN the root builds for state machines that start this one.
  arn = "arn:${data.aws_partition.current.partition}:states:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:stateMachine:${aws_sfn_state_machine.this.name}"

  logging = var.log_level != "OFF"

  table_read_actions  = ["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"]
  table_write_actions = ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
  sid                 = { for k in keys(var.tables) : k => replace(title(replace(k, "_", " ")), " ", "") }

  # Actions AWS defines with no resource types, so IAM only accepts Resource "*" for them:
  # vended-log delivery management (logging) and X-Ray writes (tracing).
  no_resource_type_actions = concat(
    local.logging ? [
      "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
    ] : [],
    var.xray_tracing ? ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"] : [],
  )

  statements = concat(
    length(var.functions) == 0 ? [] : [{
      Sid      = "InvokeFunctions"
      Effect   = "Allow"
      Action   = ["lambda:InvokeFunction"]
      Resource = var.functions
    }],
    [for k, t in var.tables : {
      Sid      = "${t.access == "read" ? "Read" : "ReadWrite"}${local.sid[k]}"
      Effect   = "Allow"
      Action   = t.access == "read" ? local.table_read_actions : concat(local.table_read_actions, local.table_write_actions)
      Resource = concat([t.arn], t.index_arns)
    }],
    length(var.queues_send) == 0 ? [] : [{
      Sid      = "SendToQueues"
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = var.queues_send
    }],
    length(var.state_machines_start) == 0 ? [] : [{
      Sid      = "StartExecutions"
      Effect   = "Allow"
      Action   = ["states:StartExecution"]
      Resource = var.state_machines_start
    }],
    length(var.websocket_connections_arns) == 0 ? [] : [{
      Sid      = "PushToWebSocketClients"
      Effect   = "Allow"
      Action   = ["execute-api:Invoke", "execute-api:ManageConnections"]
      Resource = var.websocket_connections_arns
    }],
    length(local.no_resource_type_actions) == 0 ? [] : [{
      Sid      = "ActionsWithoutResourceTypes"
      Effect   = "Allow"
      Action   = local.no_resource_type_actions
      Resource = "*"
    }],
  )
}

resource "aws_iam_role" "this" {
  name        = var.name
  description = "Runs state machine ${var.name}: exactly the functions, tables, queues and state machines its ASL uses."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = length(local.statements) == 0 ? 0 : 1

  name   = "${var.name}-access"
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}

# /aws/vendedlogs/ keeps CloudWatch's resource policy for Step Functions under its size limit.
resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/vendedlogs/states/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_sfn_state_machine" "this" {
  name       = var.name
  type       = var.type
  role_arn   = aws_iam_role.this.arn
  definition = var.definition

  logging_configuration {
    level                  = var.log_level
    include_execution_data = var.log_execution_data
    log_destination        = local.logging ? "${aws_cloudwatch_log_group.this.arn}:*" : null
  }

  tracing_configuration {
    enabled = var.xray_tracing
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this]
}

resource "aws_cloudwatch_metric_alarm" "executions" {
  for_each = toset(["ExecutionsFailed", "ExecutionsTimedOut"])

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = "State machine ${var.name}: ${each.key} — open the execution in the console (or `arcadeflow trace`) to see which state failed."
  namespace           = "AWS/States"
  metric_name         = each.key
  dimensions          = { StateMachineArn = local.arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
