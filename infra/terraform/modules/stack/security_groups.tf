# The Lambda functions' security groups: no ingress; egress only to what each
# function talks to.

resource "aws_security_group" "matchmaker" {
  name        = "${var.name}-matchmaker"
  description = "arcade-matchmaker: egress to Redis and the host nodes port only"
  vpc_id      = module.network.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_egress_rule" "matchmaker_redis" {
  security_group_id            = aws_security_group.matchmaker.id
  description                  = "Redis (tickets, node registry)"
  referenced_security_group_id = module.redis.security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_vpc_security_group_egress_rule" "matchmaker_hosts" {
  for_each          = toset(local.host_node_cidrs)
  security_group_id = aws_security_group.matchmaker.id
  description       = "Host nodes' HTTP API (room allocation)"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = var.host_port
  to_port           = var.host_port
}

resource "aws_security_group" "archiver" {
  name        = "${var.name}-archiver"
  description = "arcade-archiver: egress to PostgreSQL and S3 only"
  vpc_id      = module.network.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_egress_rule" "archiver_postgres" {
  security_group_id            = aws_security_group.archiver.id
  description                  = "PostgreSQL (archive tables)"
  referenced_security_group_id = module.postgres.security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_egress_rule" "archiver_s3" {
  security_group_id = aws_security_group.archiver.id
  description       = "S3 through the gateway endpoint (archive objects)"
  prefix_list_id    = module.network.s3_prefix_list_id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}
