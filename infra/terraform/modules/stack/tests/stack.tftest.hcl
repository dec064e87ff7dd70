# Wiring of the serverless side: the archiver consumes the finished-games
# queue with partial batch failures, S3 notifies the queue of new game records,
# the match run is scheduled, and the API has the three ticket routes; the
# functions' environments carry exactly what the handlers read.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name                 = "arcade-test"
  environment          = "test"
  vpc_cidr             = "10.60.0.0/16"
  availability_zones   = ["eu-west-1a", "eu-west-1b"]
  private_subnet_cidrs = ["10.60.0.0/20", "10.60.16.0/20"]
  lambda_artifacts_dir = "does-not-exist"
  jwt_issuer           = "https://issuer.example.com"
  jwt_audience         = ["client"]
}

run "wiring" {
  command = plan

  assert {
    condition     = aws_lambda_event_source_mapping.archiver.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The archiver reports partial batch failures."
  }

  assert {
    condition     = aws_s3_bucket_notification.archive.queue[0].filter_prefix == "games/" && aws_s3_bucket_notification.archive.queue[0].filter_suffix == ".json.zst"
    error_message = "New game record objects (not the batch manifests) notify the queue."
  }

  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.archiver.statement :
      s.sid == "ReadWriteArchiveObjects" && length(setsubtract(["s3:GetObject", "s3:GetObjectVersion"], s.actions)) == 0
    ])
    error_message = "The archiver may read (any version of) the record objects the notifications name."
  }

  assert {
    condition     = aws_cloudwatch_event_rule.match_run.schedule_expression == "rate(1 minute)"
    error_message = "The match run is scheduled every minute."
  }

  assert {
    condition     = aws_lambda_function_event_invoke_config.matchmaker.maximum_retry_attempts == 0
    error_message = "A missed match run is not retried (the next one supersedes it)."
  }

  assert {
    condition     = toset(keys(local.archiver_environment)) == toset(["ARCADE_ARCHIVE_PG_URL", "ARCADE_ARCHIVE_S3_URL", "ARCADE_ARCHIVE_RETENTION_DAYS", "RUST_LOG"])
    error_message = "The archiver gets the two URLs and the retention days lambda/archiver/src/config.rs reads, and nothing else."
  }

  assert {
    condition     = toset(keys(local.matchmaker_environment)) == toset(["ARCADE_CLUSTER_NAMESPACE", "ARCADE_CLUSTER_SECRET", "ARCADE_MM_DEFAULT_MODE", "ARCADE_MM_DEFAULT_REGION", "ARCADE_MM_PLAYER_CLAIM", "ARCADE_MM_QUEUES", "ARCADE_MM_REGION_FALLBACK", "ARCADE_REDIS_URL", "RUST_LOG"])
    error_message = "The matchmaker gets the Redis URL, the nodes' cluster namespace, the queues, the default mode and region, the region fallback and the player claim, nothing else."
  }

  assert {
    condition     = local.matchmaker_environment.ARCADE_MM_REGION_FALLBACK == "{}" && local.matchmaker_environment.ARCADE_MM_PLAYER_CLAIM == "sub"
    error_message = "By default no region falls back (an empty JSON table), and the player is the JWT's subject."
  }

  assert {
    condition     = local.matchmaker_environment.ARCADE_CLUSTER_NAMESPACE == "arcade"
    error_message = "The default namespace is the nodes' default cluster.namespace (arcade)."
  }

  assert {
    condition     = local.matchmaker_environment.ARCADE_MM_DEFAULT_MODE == "standard" && local.matchmaker_environment.ARCADE_MM_DEFAULT_REGION == "local"
    error_message = "The default mode and region are the nodes' defaults (matchmaking.default_mode / default_region)."
  }

  assert {
    condition     = output.host_cluster_namespace == local.matchmaker_environment.ARCADE_CLUSTER_NAMESPACE
    error_message = "The nodes are told the matchmaker's namespace."
  }

  assert {
    condition     = jsondecode(local.matchmaker_environment.ARCADE_MM_QUEUES) == [{ game = "tic-tac-toe", mode = "standard", players_per_match = 2 }]
    error_message = "ARCADE_MM_QUEUES is the JSON list of queues."
  }

  assert {
    condition     = length(aws_vpc_security_group_egress_rule.matchmaker_hosts) == 1 && one(values(aws_vpc_security_group_egress_rule.matchmaker_hosts)).from_port == 8080 && aws_vpc_security_group_egress_rule.matchmaker_redis.from_port == 6379
    error_message = "The matchmaker reaches Redis and the host nodes' port, nothing else."
  }
}

# The connection URLs are built from values known only after apply: given
# here at plan time.
run "connection_urls" {
  command = plan

  override_resource {
    target          = module.archive_bucket.aws_s3_bucket.this
    override_during = plan
    values = {
      id     = "arcade-test-archive-123456789012"
      arn    = "arn:aws:s3:::arcade-test-archive-123456789012"
      region = "eu-west-1"
    }
  }

  override_resource {
    target          = module.postgres.aws_db_instance.this
    override_during = plan
    values = {
      address            = "arcade-test.abc.eu-west-1.rds.amazonaws.com"
      port               = 5432
      db_name            = "arcade"
      master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-mock", kms_key_id = "", secret_status = "active" }]
    }
  }

  override_resource {
    target          = module.redis.aws_elasticache_replication_group.this
    override_during = plan
    values = {
      primary_endpoint_address = "master.arcade-test.abc.euw1.cache.amazonaws.com"
      port                     = 6379
    }
  }

  assert {
    condition     = nonsensitive(local.archiver_environment.ARCADE_ARCHIVE_PG_URL) == "postgres://arcade_archiver:mockmockmockmockmockmockmockmockmockmockmockmockmockmockmockmock@arcade-test.abc.eu-west-1.rds.amazonaws.com:5432/arcade?sslmode=require"
    error_message = "The archiver connects as arcade_archiver with a password, over TLS."
  }

  assert {
    condition     = local.archiver_environment.ARCADE_ARCHIVE_S3_URL == "s3://arcade-test-archive-123456789012/games?region=eu-west-1"
    error_message = "The archiver writes the archive bucket's games/ prefix."
  }

  assert {
    condition     = nonsensitive(local.matchmaker_environment.ARCADE_REDIS_URL) == "rediss://:mockmockmockmockmockmockmockmockmockmockmockmockmockmockmockmock@master.arcade-test.abc.euw1.cache.amazonaws.com:6379"
    error_message = "The matchmaker talks TLS to Redis with the AUTH token."
  }

  assert {
    condition     = nonsensitive(output.host_redis_url) == nonsensitive(local.matchmaker_environment.ARCADE_REDIS_URL)
    error_message = "The host nodes get the matchmaker's Redis URL (same Redis, same keys)."
  }

  assert {
    condition     = nonsensitive(output.host_cluster_secret) == nonsensitive(local.matchmaker_environment.ARCADE_CLUSTER_SECRET) && length(nonsensitive(local.matchmaker_environment.ARCADE_CLUSTER_SECRET)) >= 32
    error_message = "The host nodes and the matchmaker share one cluster secret of at least 32 bytes."
  }
}

# A cluster with its own namespace: the matchmaker follows it.
run "custom_namespace" {
  command = plan

  variables {
    cluster_namespace          = "arcade-eu"
    matchmaking_default_region = "eu-west-1"
  }

  assert {
    condition     = local.matchmaker_environment.ARCADE_CLUSTER_NAMESPACE == "arcade-eu" && output.host_cluster_namespace == "arcade-eu"
    error_message = "ARCADE_CLUSTER_NAMESPACE follows cluster_namespace."
  }

  assert {
    condition     = local.matchmaker_environment.ARCADE_MM_DEFAULT_REGION == "eu-west-1"
    error_message = "ARCADE_MM_DEFAULT_REGION follows matchmaking_default_region."
  }
}

# Regions (#16 item 3): the matchmaker Lambda places as the nodes do.
run "region_fallback_reaches_the_matchmaker_as_json" {
  command = plan

  variables {
    matchmaking_region_fallback = { eu-west-1 = ["us-east-1", "*"], us-east-1 = ["eu-west-1"] }
  }

  assert {
    condition     = jsondecode(local.matchmaker_environment.ARCADE_MM_REGION_FALLBACK) == { eu-west-1 = ["us-east-1", "*"], us-east-1 = ["eu-west-1"] }
    error_message = "ARCADE_MM_REGION_FALLBACK is the JSON of matchmaking_region_fallback."
  }
}

run "region_fallback_is_checked_like_the_nodes_setting" {
  command = plan

  variables {
    matchmaking_region_fallback = { eu-west-1 = ["*", "us-east-1"] }
  }

  expect_failures = [var.matchmaking_region_fallback]
}

run "region_fallback_may_not_name_its_own_region" {
  command = plan

  variables {
    matchmaking_region_fallback = { eu-west-1 = ["eu-west-1"] }
  }

  expect_failures = [var.matchmaking_region_fallback]
}

run "namespace_must_be_a_key_prefix" {
  command = plan

  variables {
    cluster_namespace = ""
  }

  expect_failures = [var.cluster_namespace]
}
