data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${var.name}"

  table_read_actions  = ["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"]
  table_write_actions = ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]

  # "follows_to_x" -> "FollowsToX": statement ids are alphanumeric.
  sid = { for k in keys(var.tables) : k => replace(title(replace(k, "_", " ")), " ", "") }

  statements = concat(
    [{
      Sid      = "OwnLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = [local.log_group_arn, "${local.log_group_arn}:log-stream:*"]
    }],
    [for k, t in var.tables : {
      Sid      = "${t.access == "read" ? "Read" : "ReadWrite"}${local.sid[k]}"
      Effect   = "Allow"
      Action   = t.access == "read" ? local.table_read_actions : concat(local.table_read_actions, local.table_write_actions)
      Resource = concat([t.arn], t.index_arns)
    }],
    length(var.stream_arns) == 0 ? [] : [{
      Sid      = "ReadStreams"
      Effect   = "Allow"
      Action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
      Resource = var.stream_arns
    }],
    length(var.queues_send) == 0 ? [] : [{
      Sid      = "SendToQueues"
      Effect   = "Allow"
      Action   = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"]
      Resource = var.queues_send
    }],
    length(var.queues_consume) == 0 ? [] : [{
      Sid      = "ConsumeQueues"
      Effect   = "Allow"
      Action   = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"]
      Resource = var.queues_consume
    }],
    length(var.state_machines_start) == 0 ? [] : [{
      Sid      = "StartExecutions"
      Effect   = "Allow"
      Action   = ["states:StartExecution"]
      Resource = var.state_machines_start
    }],
    length(var.state_machines_describe) == 0 ? [] : [{
      Sid      = "DescribeExecutions"
      Effect   = "Allow"
      Action   = ["states:DescribeExecution", "states:GetExecutionHistory"]
      Resource = var.state_machines_describe
    }],
    # The Service Authorization Reference defines no resource type for SendTaskSuccess/Failure/
    # Heartbeat (the task token is the capability), so IAM documents only "*" for them.
    length(var.state_machines_callback) == 0 ? [] : [{
      Sid      = "TaskTokenActionsHaveNoResourceTypes"
      Effect   = "Allow"
      Action   = ["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"]
      Resource = "*"
    }],
    length(var.websocket_connections_arns) == 0 ? [] : [{
      Sid      = "PushToWebSocketClients"
      Effect   = "Allow"
      Action   = ["execute-api:ManageConnections"]
      Resource = var.websocket_connections_arns
    }],
    length(var.secret_parameter_arns) == 0 ? [] : [{
      Sid      = "ReadSecrets"
      Effect   = "Allow"
      Action   = ["ssm:GetParameter"]
      Resource = var.secret_parameter_arns
    }],
    # X-Ray defines no resource types for these actions either.
    var.xray_tracing ? [{
      Sid      = "XRayWritesHaveNoResourceTypes"
      Effect   = "Allow"
      Action   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
      Resource = "*"
    }] : [],
  )
}

resource "aws_iam_role" "this" {
  name        = var.name
  description = "Runs Lambda ${var.name}: exactly the tables, queues, state machines and APIs it uses."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-access"
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  function_name    = var.name
  description      = var.description
  role             = aws_iam_role.this.arn
  handler          = var.handler
  runtime          = var.runtime
  architectures    = [var.architecture]
  memory_size      = var.memory_mb
  timeout          = var.timeout_seconds
  filename         = var.package_path
  source_code_hash = var.package_hash
  layers           = var.layers

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = var.xray_tracing ? "Active" : "PassThrough"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags = var.tags

  # The role's policy must exist before Lambda validates an event source mapping or first runs.
  depends_on = [aws_iam_role_policy.this]
}
