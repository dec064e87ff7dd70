output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "The VPC's CIDR block."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "The private subnets."
  value       = aws_subnet.private[*].id
}

output "private_route_table_id" {
  description = "The private subnets' route table."
  value       = aws_route_table.private.id
}

output "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint (for security group egress rules)."
  value       = aws_vpc_endpoint.s3.prefix_list_id
}

output "endpoints_security_group_id" {
  description = "Security group of the interface endpoints."
  value       = aws_security_group.endpoints.id
}
