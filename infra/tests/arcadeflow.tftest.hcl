# Offline checks of the root configuration with a mocked AWS provider: `terraform test` in infra/.
# Run by tests/infra/test_terraform.py, which also reads the state of each run for the no-drift check.
# Runs read resolved descriptions: infra/deployment.resolved.json (checked in) and the full fixture,
# resolved by the test first. By hand:
#   python -m arcadeflow.deployment infra/tests/fixtures/full.deployment.json --output /tmp/full.resolved.json
#   terraform test '-var=full_fixture_file="/tmp/full.resolved.json"' -var=package_path=...
# ARNs the configuration builds itself (tables, queues, functions, state machines) are real-looking;
# those only AWS knows get the fixed defaults below.

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
  alarm_topic = "arn:aws:sns:us-east-1:123456789012:arcadeflow-alarms"
  # Wildcards that name no resource type but a run-time part of one resource: Lambda's log streams
  # in the function's own group, WebSocket connection ids on this API's own stage.
  allowed_wildcard_suffixes = [":log-stream:*", "/@connections/*"]
  # Reading executions (the "describe" grant) names every execution of one named machine.
  machine_executions = "^arn:aws:states:us-east-1:123456789012:execution:[^:*]+:[*]$"
}

# --- the real description (infra/deployment.json) ---------------------------------------------
run "description" {
  command = apply
  variables {
    # What the drift check compares with the deployer's CreateApi for the same origins.
    cors_allowed_origins = ["http://localhost:5173", "https://play.example.com"]
  }

  assert {
    condition = (aws_ssm_parameter.secret["feed_cursor_key"].type == "SecureString"
      && aws_ssm_parameter.secret["feed_cursor_key"].name == "/arcadeflow/feed-cursor-key"
    && local.function_environment["feeds_api"]["FEED_CURSOR_KEY_PARAMETER"] == "/arcadeflow/feed-cursor-key")
    error_message = "the feed cursor key is a generated SecureString that feeds_api is told the name of"
  }
  assert {
    condition = (module.queues["fanout_dead_letters"].alarms["failures_depth"].dimensions.QueueName == "arcadeflow-fanout-dead-letters"
    && module.queues["fanout_dead_letters"].dead_letter_url == null)
    error_message = "the fan-out dead-letter queue alarms on its own depth and has no dead-letter queue of its own"
  }

  assert {
    condition     = module.tables["presence"].ttl_attribute == "expiresAt" && module.tables["idempotency"].ttl_attribute == "expiration"
    error_message = "presence must expire on expiresAt and idempotency on expiration"
  }
  assert {
    # Generic over the flows: every table expires on exactly the attribute the description names
    # (none where it names none), so a new flow's tables need no edit here.
    condition = alltrue([for k, t in module.tables :
    t.ttl_attribute == jsondecode(file("deployment.resolved.json")).tables[k].ttlAttribute])
    error_message = "a table expires items on another attribute than the description's ttlAttribute"
  }
  assert {
    condition     = module.tables["sessions"].ttl_attribute == "expireAt" && module.tables["users"].ttl_attribute == null
    error_message = "duel sessions expire on expireAt; users never expire"
  }
  assert {
    condition = (module.tables["follows"].indexes["FollowedBy"].partition_key == "targetUserId"
      && module.tables["follows"].indexes["FollowedBy"].sort_key == "userId"
      && module.tables["presence"].indexes["OnlineByExpiry"].sort_key == "expiresAt"
      && keys(module.tables["user_game_stats"].indexes) == ["GameStatsByGame", "UserRecentGames"]
    && length(module.tables["users"].indexes) == 0)
    error_message = "indexes differ from the description"
  }
  assert {
    condition     = alltrue([for k, f in module.functions : f.role_name == f.name && f.name == "arcadeflow-${replace(k, "_", "-")}"])
    error_message = "every function runs as its own role, named after it"
  }
  assert {
    condition = alltrue(flatten([for f in values(module.functions) : [for st in jsondecode(f.policy).Statement :
      contains(["XRayWritesHaveNoResourceTypes", "TaskTokenActionsHaveNoResourceTypes"], st.Sid) || alltrue([for r in flatten([st.Resource]) :
        r != "*" && (!strcontains(trimsuffix(trimsuffix(r, var.allowed_wildcard_suffixes[0]), var.allowed_wildcard_suffixes[1]), "*")
        || (st.Sid == "DescribeExecutions" && can(regex(var.machine_executions, r))))
    ])]]))
    error_message = "an IAM statement grants a wildcard resource"
  }
  assert {
    # Resource "*" only for actions the Service Authorization Reference defines without resource types.
    condition = alltrue(flatten([for f in values(module.functions) : [for st in jsondecode(f.policy).Statement :
      st.Sid == "XRayWritesHaveNoResourceTypes" ? st.Action == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"] : (
        st.Sid == "TaskTokenActionsHaveNoResourceTypes" ? st.Action == ["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"] : true
    ) if st.Resource == "*"]]))
    error_message = "Resource \"*\" is only for X-Ray writes and the task-token actions, in their own statements"
  }
  assert {
    # The functions that complete task tokens (callback, start_and_callback) get SendTask*, no other does.
    condition     = alltrue([for k, f in module.functions : contains([for st in jsondecode(f.policy).Statement : st.Sid], "TaskTokenActionsHaveNoResourceTypes") == contains(["ws_actions", "duel_notify_invitee", "duel_announce_start"], k)])
    error_message = "SendTask* must go to exactly the functions that complete task tokens"
  }
  assert {
    # start_and_callback: ws_actions starts duel_invite (and only it) and completes duel_invite's and duel_session's tokens.
    condition     = [for st in jsondecode(module.functions["ws_actions"].policy).Statement : st.Resource if st.Sid == "StartExecutions"] == [["arn:aws:states:us-east-1:123456789012:stateMachine:arcadeflow-duel-invite"]]
    error_message = "ws_actions may start duel_invite and nothing else"
  }
  assert {
    condition = (module.websocket_api[0].authorizer.type == "REQUEST"
      && module.websocket_api[0].authorizer.identity_sources == toset(["route.request.querystring.token"])
      && module.websocket_api[0].route_authorization["$connect"].type == "CUSTOM"
      && module.websocket_api[0].route_authorization["$connect"].authorizer_id == module.websocket_api[0].authorizer.id
    && alltrue([for k, r in module.websocket_api[0].route_authorization : r.type == "NONE" && r.authorizer_id == null if k != "$connect"]))
    error_message = "$connect (and only $connect) must be guarded by the REQUEST authorizer on the token query parameter"
  }
  assert {
    condition     = module.websocket_api[0].authorizer.permission_arn == "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/authorizers/${module.websocket_api[0].authorizer.id}"
    error_message = "API Gateway may invoke the authorizer function only as this API's authorizer"
  }
  assert {
    condition = (local.function_environment["ws_authorizer"].JWT_ISSUER == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_mocked"
      && local.function_environment["ws_authorizer"].JWT_JWKS_URL == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_mocked/.well-known/jwks.json"
    && local.function_environment["ws_authorizer"].JWT_AUDIENCES == aws_cognito_user_pool_client.game[0].id)
    error_message = "the WebSocket authorizer must accept the created pool's tokens, as the HTTP API's JWT authorizer does"
  }
  assert {
    condition     = alltrue([for k, env in local.function_environment : length([for v in keys(env) : v if startswith(v, "JWT_")]) == (k == "ws_authorizer" ? 3 : 0)])
    error_message = "only the authorizer gets the JWT settings"
  }
  assert {
    condition     = [for st in jsondecode(module.functions["ws_authorizer"].policy).Statement : st.Sid] == ["OwnLogs", "XRayWritesHaveNoResourceTypes"]
    error_message = "the authorizer touches no table, queue or state machine"
  }
  assert {
    # users_api reads presence and user_game_stats (and their indexes) and writes users: nothing else.
    condition = sort(flatten([for st in jsondecode(module.functions["users_api"].policy).Statement : flatten([st.Resource]) if startswith(st.Sid, "Read")])) == sort([
      "arn:aws:dynamodb:us-east-1:123456789012:table/arcadeflow-presence",
      "arn:aws:dynamodb:us-east-1:123456789012:table/arcadeflow-presence/index/OnlineByExpiry",
      "arn:aws:dynamodb:us-east-1:123456789012:table/arcadeflow-user-game-stats",
      "arn:aws:dynamodb:us-east-1:123456789012:table/arcadeflow-user-game-stats/index/GameStatsByGame",
      "arn:aws:dynamodb:us-east-1:123456789012:table/arcadeflow-user-game-stats/index/UserRecentGames",
      "arn:aws:dynamodb:us-east-1:123456789012:table/arcadeflow-users",
    ])
    error_message = "users_api's table grants are not exactly its tables and their indexes"
  }
  assert {
    condition = alltrue([for st in jsondecode(module.functions["users_api"].policy).Statement :
    contains(["ReadPresence", "ReadUserGameStats"], st.Sid) == (length(setintersection(st.Action, ["dynamodb:PutItem", "dynamodb:UpdateItem"])) == 0) if startswith(st.Sid, "Read")])
    error_message = "read grants must not include writes, readwrite grants must"
  }
  assert {
    condition = alltrue(flatten([for t in values(module.tables) : [for a in values(t.alarms) :
    a.alarm_actions == toset([var.alarm_topic]) && a.dimensions.TableName == t.name]]))
    error_message = "a throttling alarm is not wired to the alarm topic or watches another table"
  }
  assert {
    condition     = alltrue([for t in values(module.tables) : length(t.alarms) == 2 * (1 + length(t.indexes))])
    error_message = "every table and every index needs a read and a write throttling alarm"
  }
  assert {
    condition = (keys(aws_lambda_event_source_mapping.this) == keys(jsondecode(file("deployment.resolved.json")).eventSources)
      && aws_lambda_event_source_mapping.this["follows_to_follow_counts"].starting_position == "TRIM_HORIZON"
    && aws_lambda_event_source_mapping.this["connections_to_presence_push"].starting_position == "LATEST")
    error_message = "event sources differ from the description"
  }
  assert {
    condition     = alltrue([for st in jsondecode(module.functions["follow_counts"].policy).Statement : st.Resource == [module.tables["follows"].stream_arn] if st.Sid == "ReadStreams"])
    error_message = "follow_counts reads exactly the follows stream"
  }
  assert {
    condition     = length(module.websocket_api) == 1 && output.websocket_url != null
    error_message = "the duels routes need the WebSocket API"
  }
}

# --- a description with every feature (queues, state machines, WebSocket, direct StartExecution) ---
run "full_fixture" {
  command = apply
  variables {
    deployment_file = var.full_fixture_file
  }

  assert {
    condition     = module.tables["duels"].ttl_attribute == "expiresAt" && module.tables["duels"].indexes["DuelsByPlayer"].projection == "KEYS_ONLY"
    error_message = "duels TTL or index differs from the fixture"
  }
  assert {
    condition     = local.table_capacity["feeds"].billing_mode == "PROVISIONED" && local.table_capacity["feeds"].write == 100 && local.table_capacity["users"].billing_mode == "PAY_PER_REQUEST"
    error_message = "billing modes differ from the fixture"
  }
  assert {
    condition = alltrue(flatten([for s in values(module.state_machines) : [for st in jsondecode(s.policy).Statement :
      st.Sid == "ActionsWithoutResourceTypes" || alltrue([for r in flatten([st.Resource]) :
        r != "*" && !strcontains(trimsuffix(r, var.allowed_wildcard_suffixes[1]), "*")
    ])]]))
    error_message = "a state machine's IAM statement grants a wildcard resource"
  }
  assert {
    condition = alltrue([for s in values(module.state_machines) : alltrue([for st in jsondecode(s.policy).Statement :
      alltrue([for a in st.Action : startswith(a, "xray:") || contains(["logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery"], a)])
    if st.Resource == "*"])])
    error_message = "Resource \"*\" is only for actions AWS defines without resource types"
  }
  assert {
    condition = (jsondecode(module.state_machines["status_fanout"].policy).Statement[0].Resource == [module.functions["fanout_writer"].arn]
    && jsondecode(module.state_machines["duel_invite"].policy).Statement[0].Resource == [module.functions["duel_api"].arn])
    error_message = "each state machine invokes exactly its functions"
  }
  assert {
    condition = alltrue(flatten([for s in values(module.state_machines) : [for a in values(s.alarms) :
    a.alarm_actions == toset([var.alarm_topic]) && a.dimensions.StateMachineArn == s.arn]])) && length(module.state_machines["duel_invite"].alarms) == 2
    error_message = "failed/timed-out execution alarms must watch their own state machine and notify the alarm topic"
  }
  assert {
    condition     = alltrue([for s in values(module.state_machines) : s.logging.level == "ALL" && s.logging.tracing])
    error_message = "state machines log and trace"
  }
  assert {
    condition = (module.queues["pairing"].alarms["dead_letter_depth"].dimensions.QueueName == "arcadeflow-pairing-dlq"
      && module.queues["pairing"].alarms["dead_letter_depth"].alarm_actions == toset([var.alarm_topic])
    && length(module.queues["audit"].alarms) == 0 && module.queues["audit"].dead_letter_url == null)
    error_message = "dead-letter depth alarm missing or unwired"
  }
  assert {
    condition = (module.http_api.start_execution_integrations["POST /duels"].subtype == "StepFunctions-StartExecution"
    && module.http_api.start_execution_integrations["POST /duels"].state_machine_arn == module.state_machines["duel_invite"].arn)
    error_message = "POST /duels must start duel_invite directly through API Gateway"
  }
  assert {
    condition     = jsondecode(module.http_api.start_execution_policy).Statement[0].Resource == [module.state_machines["duel_invite"].arn]
    error_message = "API Gateway may start exactly the state machines its routes name"
  }
  assert {
    # One integration per route: the mapped one carries its Name and Input, the other the defaults.
    condition = (module.http_api.start_execution_integrations["POST /duels/{duelId}/end"].name == "$${request.path.duelId}_$${context.authorizer.claims.sub}"
      && module.http_api.start_execution_integrations["POST /duels/{duelId}/end"].input == "{\"duelId\":\"$${request.path.duelId}\",\"userId\":\"$${context.authorizer.claims.sub}\"}"
      && module.http_api.start_execution_integrations["POST /duels/{duelId}/end"].state_machine_arn == module.state_machines["duel_invite"].arn
      && module.http_api.start_execution_integrations["POST /duels"].name == null
    && module.http_api.start_execution_integrations["POST /duels"].input == "$request.body")
    error_message = "a StartExecution route's integration must carry the route's request parameters (Input defaulting to the body)"
  }
  assert {
    condition = ([for st in jsondecode(module.functions["status_api"].policy).Statement : [st.Action, st.Resource] if st.Sid == "DescribeExecutions"]
    == [[["states:DescribeExecution", "states:GetExecutionHistory"], ["arn:aws:states:us-east-1:123456789012:execution:arcadeflow-duel-invite:*"]]])
    error_message = "describe grants DescribeExecution and GetExecutionHistory on the executions of exactly that machine"
  }
  assert {
    condition     = [for k, f in module.functions : k if contains([for st in jsondecode(f.policy).Statement : st.Sid], "DescribeExecutions")] == ["status_api"]
    error_message = "only functions granted describe may read executions"
  }
  assert {
    condition     = alltrue([for k, f in module.functions : contains([for st in jsondecode(f.policy).Statement : st.Sid], "PushToWebSocketClients") == contains(["duel_api", "pairing_worker"], k)])
    error_message = "execute-api:ManageConnections is for the functions with websocketPush only"
  }
  assert {
    condition     = alltrue([for st in jsondecode(module.functions["duel_api"].policy).Statement : alltrue([for r in st.Resource : startswith(r, "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/")]) if st.Sid == "PushToWebSocketClients"])
    error_message = "ManageConnections is scoped to the WebSocket API's own stage"
  }
  assert {
    condition = ([for st in jsondecode(module.functions["duel_api"].policy).Statement : st.Resource if st.Sid == "SendToQueues"] == [["arn:aws:sqs:us-east-1:123456789012:arcadeflow-pairing"]]
    && contains([for st in jsondecode(module.functions["pairing_worker"].policy).Statement : st.Sid], "ConsumeQueues"))
    error_message = "queue grants differ from the fixture"
  }
  assert {
    condition     = output.websocket_callback_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod"
    error_message = "WEBSOCKET_CALLBACK_URL must be the @connections endpoint of the stage"
  }
}

run "no_star_without_tracing_and_logging" {
  command = plan
  variables {
    deployment_file         = var.full_fixture_file
    xray_tracing            = false
    state_machine_log_level = "OFF"
  }

  assert {
    # What remains is the task-token statement, which no setting can scope (no resource types).
    condition = alltrue(flatten(concat(
      [for f in values(module.functions) : [for st in jsondecode(f.policy).Statement : [for r in flatten([st.Resource]) : r != "*" || st.Sid == "TaskTokenActionsHaveNoResourceTypes"]]],
      [for s in values(module.state_machines) : [for st in jsondecode(s.policy).Statement : [for r in flatten([st.Resource]) : r != "*"]]],
    )))
    error_message = "with tracing and execution logging off, only the task-token statement may name Resource \"*\""
  }
  assert {
    condition     = [for st in jsondecode(module.functions["duel_api"].policy).Statement : st.Action if st.Resource == "*"] == [["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"]]
    error_message = "duel_api completes duel_invite's tokens: SendTask* on \"*\", nothing else"
  }
}

run "existing_user_pool" {
  command = plan
  variables {
    jwt_issuer    = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123"
    jwt_audiences = ["gameclient1", "gameclient2"]
  }

  assert {
    condition = (local.function_environment["ws_authorizer"].JWT_ISSUER == var.jwt_issuer
      && local.function_environment["ws_authorizer"].JWT_AUDIENCES == "gameclient1,gameclient2"
      && local.function_environment["ws_authorizer"].JWT_JWKS_URL == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123/.well-known/jwks.json"
    && length(aws_cognito_user_pool.players) == 0)
    error_message = "with an existing pool the authorizer trusts that pool's issuer, clients and JWKS"
  }
}

run "jwks_url_override" {
  command = plan
  variables {
    jwt_issuer    = "https://arcadeflow.local/auth"
    jwt_audiences = ["arcadeflow"]
    jwt_jwks_url  = "http://127.0.0.1:8000/.well-known/jwks.json"
  }

  assert {
    condition     = local.function_environment["ws_authorizer"].JWT_JWKS_URL == "http://127.0.0.1:8000/.well-known/jwks.json"
    error_message = "jwt_jwks_url must reach the authorizer (how an apply against the embedded AWS trusts local tokens)"
  }
}

run "rejects_invalid_variables" {
  command = plan
  variables {
    stage                = "Prod Stage"
    lambda_architecture  = "sparc"
    jwt_jwks_url         = "ftp://keys.example.com/jwks.json"
    cors_allowed_origins = ["http://localhost:5173/"]
  }
  expect_failures = [var.stage, var.lambda_architecture, var.jwt_jwks_url, var.cors_allowed_origins]
}

run "rejects_an_unresolved_description" {
  # The description itself is for the loader; Terraform reads only its resolved form.
  command = plan
  variables {
    deployment_file = "deployment.json"
  }
  expect_failures = [var.deployment_file]
}

# --- the modules' own checks on what main.tf passes them ------------------------------------
run "http_api_refuses_start_parameters_it_does_not_map" {
  command = plan
  module {
    source = "./modules/http_api"
  }
  variables {
    name = "arcadeflow-http"
    routes = {
      "POST /games/{id}/end" = {
        auth          = true
        state_machine = { arn = "arn:aws:states:us-east-1:123456789012:stateMachine:x", request_parameters = { StateMachineArn = "arn:aws:states:us-east-1:123456789012:stateMachine:other" } }
      }
    }
    jwt_issuer         = "https://issuer.example.com"
    jwt_audiences      = ["app"]
    log_retention_days = 14
    cors               = { allow_methods = ["POST"], allow_headers = ["authorization"], expose_headers = [], allow_credentials = false }
  }
  expect_failures = [var.routes]
}

run "http_api_refuses_a_cors_configuration_api_gateway_would_not_take" {
  command = plan
  module {
    source = "./modules/http_api"
  }
  variables {
    name = "arcadeflow-http"
    routes = {
      "POST /scores" = { auth = true, function = { name = "scores", invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:scores/invocations" } }
    }
    jwt_issuer           = "https://issuer.example.com"
    jwt_audiences        = ["app"]
    log_retention_days   = 14
    cors_allowed_origins = ["http://localhost:5173/play"]
    cors                 = { allow_methods = ["POST"], allow_headers = ["authorization"], expose_headers = [], max_age = 86401, allow_credentials = false }
  }
  expect_failures = [var.cors_allowed_origins, var.cors]
}

run "function_describes_only_one_machines_executions" {
  command = plan
  module {
    source = "./modules/function"
  }
  variables {
    name                    = "arcadeflow-x"
    handler                 = "functions.x.handler"
    runtime                 = "python3.11"
    architecture            = "x86_64"
    memory_mb               = 256
    timeout_seconds         = 10
    package_path            = "unused.zip"
    package_hash            = "unused"
    xray_tracing            = false
    log_retention_days      = 14
    state_machines_describe = ["arn:aws:states:us-east-1:123456789012:execution:*:*"]
  }
  expect_failures = [var.state_machines_describe]
}
