param([string]$Environment = "staging")

$env:AZURE_CLIENT_ID = "⟦~4a1aa1d5-c567-49d0-ad0b-cd957a47f842⟧"
$env:AZURE_CLIENT_SECRET = "⟦azure-client-secret⟧"
$env:AZURE_TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
$storageKey = "⟦azure-storage-key⟧"

az login --service-principal -u $env:AZURE_CLIENT_ID -p $env:AZURE_CLIENT_SECRET --tenant $env:AZURE_TENANT_ID
az storage blob upload-batch --account-key $storageKey -d '$web' -s ./dist
Write-Host "Deployed to $Environment"
