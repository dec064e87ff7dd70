# `terraform test`: the whole environment plans against a mocked provider
# (catches what validate cannot: unknown values in count/for_each, provider
# argument validation, module wiring). Run by scripts/check-infra.sh.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  jwt_issuer   = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_EXAMPLE"
  jwt_audience = ["example-client"]
}

run "plan" {
  command = plan

  assert {
    condition     = module.arcade.matchmaker_function_name == "arcade-matchmaker" && module.arcade.archiver_function_name == "arcade-archiver"
    error_message = "The functions are named arcade-matchmaker and arcade-archiver."
  }
}
