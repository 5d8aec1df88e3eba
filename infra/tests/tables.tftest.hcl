# The tables' options, run by `terraform test` in infra/ with the other files of infra/tests/
# (tests/infra/test_terraform.py): capacity per table and per index, point-in-time recovery,
# encryption keys, throttling alarms and their topics, environments' names, and replica regions.
# The same mocked provider as arcadeflow.tftest.hcl (a test file cannot share it).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:arcadeflow-alarms" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/mocked", stream_label = "2025-01-01T00:00:00.000" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:us-east-1:123456789012:function:mocked", invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:mocked/invocations" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:mocked" }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = { execution_arn = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5", id = "a1b2c3d4e5" }
  }
  mock_resource "aws_sqs_queue" {
    # A queue without a dead-letter queue reads back no redrive policy.
    defaults = { arn = "arn:aws:sqs:us-east-1:123456789012:mocked", url = "https://sqs.us-east-1.amazonaws.com/123456789012/mocked", redrive_policy = "" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:us-east-1:123456789012:stateMachine:mocked" }
  }
  mock_resource "aws_cognito_user_pool" {
    defaults = { endpoint = "cognito-idp.us-east-1.amazonaws.com/us-east-1_mocked", id = "us-east-1_mocked" }
  }
}

variables {
  key_a       = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-aaaa-4bbb-8ccc-000000000001"
  key_b       = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-aaaa-4bbb-8ccc-000000000002"
  key_eu      = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-aaaa-4bbb-8ccc-000000000003"
  topic_ops   = "arn:aws:sns:us-east-1:123456789012:ops"
  topic_pager = "arn:aws:sns:us-east-1:123456789012:pager"
}

# --- capacity -------------------------------------------------------------------------------

run "index_capacity_from_the_description" {
  command = plan
  variables {
    deployment_file = var.full_fixture_file
  }

  assert {
    # FeedsByAuthor has its own capacity in the fixture; FeedsByTopic takes the table's.
    condition = (module.tables["feeds"].settings.billing_mode == "PROVISIONED"
      && module.tables["feeds"].settings.read_capacity == 5 && module.tables["feeds"].settings.write_capacity == 100
      && module.tables["feeds"].indexes["FeedsByAuthor"].read_capacity == 2
      && module.tables["feeds"].indexes["FeedsByAuthor"].write_capacity == 40
      && module.tables["feeds"].indexes["FeedsByTopic"].read_capacity == 5
    && module.tables["feeds"].indexes["FeedsByTopic"].write_capacity == 100)
    error_message = "an index must get its own capacity where the description gives one, else the table's"
  }
  assert {
    condition     = module.tables["users"].settings.billing_mode == "PAY_PER_REQUEST" && module.tables["duels"].settings.billing_mode == "PAY_PER_REQUEST"
    error_message = "a table the description does not provision is on demand"
  }
}

run "table_capacity_overrides_the_description" {
  command = plan
  variables {
    table_capacity = {
      feed    = { billing_mode = "PAY_PER_REQUEST" }
      users   = { billing_mode = "PROVISIONED", read = 7, write = 9 }
      follows = { billing_mode = "PROVISIONED", read = 20, write = 50, indexes = { FollowedBy = { read = 30, write = 60 } } }
      user_game_stats = {
        billing_mode = "PROVISIONED", read = 3, write = 4
        indexes      = { GameStatsByGame = { read = 11, write = 12 } }
      }
    }
  }

  assert {
    condition = (module.tables["feed"].settings.billing_mode == "PAY_PER_REQUEST"
      && module.tables["users"].settings.billing_mode == "PROVISIONED"
      && module.tables["users"].settings.read_capacity == 7 && module.tables["users"].settings.write_capacity == 9
    && module.tables["presence"].settings.billing_mode == "PAY_PER_REQUEST")
    error_message = "table_capacity must override the resolved billing of the tables it names, and only those"
  }
  assert {
    condition = (module.tables["follows"].indexes["FollowedBy"].read_capacity == 30
      && module.tables["follows"].indexes["FollowedBy"].write_capacity == 60
      && module.tables["user_game_stats"].indexes["GameStatsByGame"].read_capacity == 11
      && module.tables["user_game_stats"].indexes["UserRecentGames"].read_capacity == 3
    && module.tables["user_game_stats"].indexes["UserRecentGames"].write_capacity == 4)
    error_message = "table_capacity's index capacities must reach their index; an index it does not name gets the table's"
  }
  assert {
    condition     = local.table_capacity["feed"].read == null && local.table_capacity["feed"].write == null && length(local.table_capacity["feed"].indexes) == 0
    error_message = "an on-demand override carries no capacity"
  }
}

# --- point-in-time recovery and encryption -------------------------------------------------------

run "point_in_time_recovery_as_the_description_opts_in" {
  command = plan
  variables {
    deployment_file = var.full_fixture_file
  }

  assert {
    condition = (module.tables["users"].settings.point_in_time_recovery == true
      && module.tables["feeds"].settings.point_in_time_recovery == false
    && module.tables["duels"].settings.point_in_time_recovery == false)
    error_message = "with point_in_time_recovery null, exactly the tables whose description opts in keep backups"
  }
}

run "point_in_time_recovery_on_every_table" {
  command = plan
  variables {
    deployment_file        = var.full_fixture_file
    point_in_time_recovery = true
  }

  assert {
    condition     = alltrue([for t in values(module.tables) : t.settings.point_in_time_recovery])
    error_message = "point_in_time_recovery = true must back up every table"
  }
}

run "point_in_time_recovery_on_no_table" {
  command = plan
  variables {
    deployment_file        = var.full_fixture_file
    point_in_time_recovery = false
  }

  assert {
    condition     = alltrue([for t in values(module.tables) : !t.settings.point_in_time_recovery])
    error_message = "point_in_time_recovery = false must turn backups off, the description's opt-in included"
  }
}

run "kms_keys_for_every_table_and_per_table" {
  command = plan
  variables {
    deployment_file    = var.full_fixture_file
    table_kms_key_arn  = var.key_a
    table_kms_key_arns = { users = var.key_b }
  }

  assert {
    condition = (module.tables["users"].settings.kms_key_arn == var.key_b
      && module.tables["feeds"].settings.kms_key_arn == var.key_a
    && module.tables["duels"].settings.kms_key_arn == var.key_a)
    error_message = "a table named in table_kms_key_arns uses its own key, every other the global one"
  }
}

# --- throttling alarms and their topics --------------------------------------------------------

run "alarms_notify_several_topics" {
  command = plan
  variables {
    deployment_file  = var.full_fixture_file
    alarm_topic_arns = [var.topic_ops, var.topic_pager]
  }

  assert {
    condition     = length(aws_sns_topic.alarms) == 0 && output.alarm_topic_arns == tolist([var.topic_ops, var.topic_pager])
    error_message = "given topics replace the created one"
  }
  assert {
    condition     = alltrue(flatten([for t in values(module.tables) : [for a in values(t.alarms) : a.alarm_actions == toset([var.topic_ops, var.topic_pager])]]))
    error_message = "every throttling alarm notifies every given topic"
  }
  assert {
    condition     = alltrue(flatten([for s in values(module.state_machines) : [for a in values(s.alarms) : a.alarm_actions == toset([var.topic_ops, var.topic_pager])]]))
    error_message = "every execution alarm notifies every given topic"
  }
}

run "alarms_notify_no_topic" {
  command = plan
  variables {
    deployment_file  = var.full_fixture_file
    alarm_topic_arns = []
  }

  assert {
    condition = (length(aws_sns_topic.alarms) == 0
      && alltrue([for t in values(module.tables) : length(t.alarms) == 2 * (1 + length(t.indexes))])
    && alltrue(flatten([for t in values(module.tables) : [for a in values(t.alarms) : length(a.alarm_actions) == 0]])))
    error_message = "with no topic the alarms still exist (CloudWatch shows them) and notify nobody"
  }
}

run "throttle_alarms_off" {
  command = plan
  variables {
    deployment_file       = var.full_fixture_file
    table_throttle_alarms = false
  }

  assert {
    condition     = alltrue([for t in values(module.tables) : length(t.alarms) == 0]) && length(module.state_machines["duel_invite"].alarms) == 2
    error_message = "table_throttle_alarms = false removes the throttling alarms, and only those"
  }
}

# --- environments -----------------------------------------------------------------------------

run "names_of_an_environment" {
  command = plan
  variables {
    deployment_file = var.staging_fixture_file
    environment     = "staging"
  }

  assert {
    condition = (output.table_names == { users = "arcadeflow-staging-users", feeds = "arcadeflow-staging-feeds", duels = "arcadeflow-staging-duels" }
      && module.tables["duels"].alarms["WriteThrottleEvents"].dimensions.TableName == "arcadeflow-staging-duels"
      && module.functions["duel_api"].name == "arcadeflow-staging-duel-api"
    && aws_sns_topic.alarms[0].name == "arcadeflow-staging-alarms")
    error_message = "a file resolved for staging names every resource <project>-staging-<logical>"
  }
  assert {
    condition     = local.default_tags.Environment == "staging" && local.default_tags.Project == "arcadeflow" && output.environment == "staging"
    error_message = "every resource of an environment is tagged Environment"
  }
}

run "default_names_carry_no_environment" {
  command = plan

  assert {
    condition     = output.table_names["users"] == "arcadeflow-users" && !contains(keys(local.default_tags), "Environment")
    error_message = "the default file keeps today's names and no Environment tag"
  }
}

run "environment_must_match_the_file" {
  # staging's variables with the default file: staging would deploy prod's names.
  command = plan
  variables {
    environment = "staging"
  }
  expect_failures = [terraform_data.resolved_description]
}

run "file_of_an_environment_needs_the_environment" {
  command = plan
  variables {
    deployment_file = var.staging_fixture_file
  }
  expect_failures = [terraform_data.resolved_description]
}

# --- replica regions (global tables) ---------------------------------------------------------

run "replicas_in_every_listed_region" {
  command = apply
  variables {
    deployment_file = var.full_fixture_file
    # Global tables are on demand (or auto-scaled, which is not created here).
    table_capacity = { feeds = { billing_mode = "PAY_PER_REQUEST" } }
    table_replicas = [
      { region = "eu-west-1", kms_key_arn = var.key_eu, point_in_time_recovery = true },
      { region = "ap-southeast-2" },
    ]
  }

  assert {
    condition = (module.tables["users"].settings.replicas == {
      "eu-west-1"      = { kms_key_arn = var.key_eu, point_in_time_recovery = true }
      "ap-southeast-2" = { kms_key_arn = module.tables["users"].settings.replicas["ap-southeast-2"].kms_key_arn, point_in_time_recovery = true }
    } && keys(module.tables["feeds"].settings.replicas) == ["ap-southeast-2", "eu-west-1"])
    error_message = "each listed region gets a replica with its own key, and the table's backups unless it says otherwise (users opts in)"
  }
  assert {
    condition     = module.tables["feeds"].settings.replicas["ap-southeast-2"].point_in_time_recovery == false
    error_message = "a replica without its own setting backs up as its table does (feeds: no)"
  }
  assert {
    # users and feeds declare no stream: replication needs one of NEW_AND_OLD_IMAGES.
    condition = (module.tables["users"].settings.stream_view_type == "NEW_AND_OLD_IMAGES"
    && module.tables["feeds"].settings.stream_view_type == "NEW_AND_OLD_IMAGES")
    error_message = "a replicated table must stream NEW_AND_OLD_IMAGES"
  }
  assert {
    condition     = length(module.tables["duels"].settings.replicas) == 0 && module.tables["duels"].settings.stream_view_type == "NEW_AND_OLD_IMAGES"
    error_message = "duels opts out (\"replicated\": false): no replica, its own stream unchanged"
  }
}

run "replicas_refuse_a_provisioned_table" {
  # The table module alone: DynamoDB refuses a provisioned global table without auto scaling.
  command = plan
  module {
    source = "./modules/table"
  }
  variables {
    name           = "arcadeflow-feeds"
    partition_key  = { name = "userId", type = "S" }
    billing_mode   = "PROVISIONED"
    read_capacity  = 5
    write_capacity = 100
    replicas       = [{ region = "eu-west-1" }]
  }
  expect_failures = [aws_dynamodb_table.this]
}

run "replicas_refuse_another_stream_view" {
  command = plan
  module {
    source = "./modules/table"
  }
  variables {
    name             = "arcadeflow-duels"
    partition_key    = { name = "duelId", type = "S" }
    stream_view_type = "KEYS_ONLY"
    replicas         = [{ region = "eu-west-1" }]
  }
  expect_failures = [aws_dynamodb_table.this]
}

run "replicas_refuse_a_key_of_another_region" {
  command = plan
  module {
    source = "./modules/table"
  }
  variables {
    name          = "arcadeflow-users"
    partition_key = { name = "userId", type = "S" }
    # key_a lives in us-east-1.
    replicas = [{ region = "eu-west-1", kms_key_arn = var.key_a }]
  }
  expect_failures = [var.replicas]
}

run "without_replica_regions_a_table_keeps_its_stream" {
  command = plan
  variables {
    deployment_file = var.full_fixture_file
  }

  assert {
    condition     = module.tables["users"].settings.stream_view_type == null && module.tables["users"].stream_arn == null && length(module.tables["users"].settings.replicas) == 0
    error_message = "a table that is not replicated has only the stream its description declares"
  }
}

# --- validation --------------------------------------------------------------------------------

run "rejects_invalid_table_variables" {
  command = plan
  variables {
    table_capacity = {
      ghost   = { billing_mode = "PAY_PER_REQUEST" }
      follows = { billing_mode = "PROVISIONED", indexes = { NoSuchIndex = { read = 1, write = 1 } } }
    }
    table_kms_key_arns = { users = "alias/aws/dynamodb" }
    table_kms_key_arn  = "not-an-arn"
    table_replicas     = [{ region = "us-east-1" }, { region = "eu-west-1", kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-aaaa-4bbb-8ccc-000000000001" }]
    alarm_topic_arns   = ["arn:aws:sqs:us-east-1:123456789012:not-a-topic"]
    environment        = "Staging-2"
  }
  expect_failures = [var.table_capacity, var.table_kms_key_arns, var.table_kms_key_arn, var.table_replicas, var.alarm_topic_arns, var.environment]
}

run "rejects_on_demand_index_capacity" {
  command = plan
  variables {
    table_capacity = { follows = { billing_mode = "PAY_PER_REQUEST", indexes = { FollowedBy = { read = 5, write = 5 } } } }
  }
  expect_failures = [var.table_capacity]
}
