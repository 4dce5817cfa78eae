region        = "eu-west-1"
instance_type = "t3.medium"
ami_id        = "⟦~ami-0a8e758f5e873d1c1⟧"

db_username = "bookshelf"
db_password = "⟦password⟧"

datadog_api_key = "⟦hex-api-key⟧"
datadog_app_key = "⟦~${var.dd_app_key}⟧"
cloudflare_api_token = "⟦generic-api-token⟧"
pagerduty_token      = "⟦generic-api-token⟧"
tags = {
  team  = "platform"
  owner = "mara"
}
