data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # Built rather than read back, so policies that name the queues are known at plan time.
  arn_prefix = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
}

resource "aws_sqs_queue" "dead_letter" {
  count = var.dead_letter_queue_name == null ? 0 : 1

  name                      = var.dead_letter_queue_name
  message_retention_seconds = var.message_retention_seconds
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "this" {
  name                       = var.name
  visibility_timeout_seconds = var.visibility_timeout_seconds
  message_retention_seconds  = var.holds_failures ? var.message_retention_seconds : null
  sqs_managed_sse_enabled    = true
  redrive_policy = var.dead_letter_queue_name == null ? null : jsonencode({
    deadLetterTargetArn = "${local.arn_prefix}:${aws_sqs_queue.dead_letter[0].name}"
    maxReceiveCount     = var.max_receive_count
  })
  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letter_depth" {
  count = var.dead_letter_queue_name == null ? 0 : 1

  alarm_name          = "${var.dead_letter_queue_name}-depth"
  alarm_description   = "Messages of ${var.name} failed ${var.max_receive_count} times and wait in ${var.dead_letter_queue_name}: inspect, fix, redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "failures_depth" {
  count = var.holds_failures ? 1 : 0

  alarm_name          = "${var.name}-depth"
  alarm_description   = "${var.name} holds failed work: inspect, fix the cause, redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.this.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
