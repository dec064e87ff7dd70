# Retention of the S3 archive (issue #16 item 6): the archive bucket's
# lifecycle rule expires archived games (records and the manifests that index
# them) after archive_retention_days, 90 by default, as the hosts'
# archive.retention_days does for the filesystem and PostgreSQL archives;
# transitions that could not happen before expiry are dropped; 0 keeps games
# forever.

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

run "games_expire_after_90_days_by_default" {
  command = plan

  assert {
    condition     = length([for r in module.archive_bucket.lifecycle_rules : r if r.id == "replays-to-cold-storage"]) == 1
    error_message = "One lifecycle rule covers the archived games."
  }

  assert {
    condition = alltrue([for r in module.archive_bucket.lifecycle_rules : (
      r.status == "Enabled" && r.filter[0].prefix == "games/" && length(r.expiration) == 1 && r.expiration[0].days == 90
    ) if r.id == "replays-to-cold-storage"])
    error_message = "Everything under the archive prefix (games/) expires after 90 days."
  }

  assert {
    condition = alltrue([for r in module.archive_bucket.lifecycle_rules : (
      toset([for t in r.transition : t.storage_class]) == toset(["STANDARD_IA"]) && alltrue([for t in r.transition : t.days < 90])
    ) if r.id == "replays-to-cold-storage"])
    error_message = "Only transitions before the expiry stay (IA at 30 days; Glacier at 180 would come after it)."
  }

  assert {
    condition = alltrue([for r in module.archive_bucket.lifecycle_rules : (
      r.noncurrent_version_expiration[0].noncurrent_days == 30
    ) if r.id == "replays-to-cold-storage"])
    error_message = "Expired (noncurrent) versions are deleted 30 days later."
  }
}

run "retention_days_come_from_the_variable" {
  command = plan

  variables {
    archive_retention_days = 30
  }

  assert {
    condition = alltrue([for r in module.archive_bucket.lifecycle_rules : (
      r.expiration[0].days == 30 && length(r.transition) == 0
    ) if r.id == "replays-to-cold-storage"])
    error_message = "Games expire after archive_retention_days; no transition on or after the expiration day."
  }
}

run "zero_keeps_games_forever" {
  command = plan

  variables {
    archive_retention_days = 0
  }

  assert {
    condition = alltrue([for r in module.archive_bucket.lifecycle_rules : (
      length(r.expiration) == 0 && length(r.transition) == 2
    ) if r.id == "replays-to-cold-storage"])
    error_message = "With 0, nothing expires and both transitions stay."
  }
}
