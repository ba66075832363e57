#!/bin/sh
# azd preprovision hook: the Entra app registration users and services sign in to, created once per azd environment
# and remembered as AUTH_CLIENT_ID (usage by hand: AZURE_ENV_NAME=<env> sh infra/hooks/preprovision.sh --no-azd). Needs the Azure CLI signed in (az login) with the right to create applications.
# Creates: the registration (single tenant, ID tokens for the dashboard's sign-in), its identifier api://<appId>, the
# "admin" app role, a user_impersonation scope pre-authorized for the Azure CLI (so `az account get-access-token` can
# get a token for it), and its service principal (so roles can be assigned).
set -eu
if [ -n "${AUTH_CLIENT_ID:-}" ]; then
  echo "Using the app registration $AUTH_CLIENT_ID (AUTH_CLIENT_ID)."
  exit 0
fi
here=$(dirname "$0")
app_id=$(az ad app create --display-name "jobs-${AZURE_ENV_NAME}" --sign-in-audience AzureADMyOrg \
  --enable-id-token-issuance true --app-roles "@$here/app-roles.json" --query appId -o tsv)
scope_id=$(cat /proc/sys/kernel/random/uuid)
graph="https://graph.microsoft.com/v1.0/applications(appId='$app_id')"
az rest --method PATCH --uri "$graph" --headers Content-Type=application/json --body "{
  \"identifierUris\": [\"api://$app_id\"],
  \"api\": {
    \"requestedAccessTokenVersion\": 2,
    \"oauth2PermissionScopes\": [{
      \"id\": \"$scope_id\", \"value\": \"user_impersonation\", \"type\": \"User\", \"isEnabled\": true,
      \"adminConsentDisplayName\": \"Use Jobs\", \"adminConsentDescription\": \"Call the Jobs API as the signed-in user.\",
      \"userConsentDisplayName\": \"Use Jobs\", \"userConsentDescription\": \"Call the Jobs API as you.\"
    }]
  }
}"
# The Azure CLI's well-known client id, so a person can call the API with a token from `az account get-access-token`.
az rest --method PATCH --uri "$graph" --headers Content-Type=application/json --body "{
  \"api\": { \"preAuthorizedApplications\": [{ \"appId\": \"04b07795-8ddb-461a-bbee-02f9e1bf7b46\", \"delegatedPermissionIds\": [\"$scope_id\"] }] }
}"
az ad sp create --id "$app_id" > /dev/null
# Run by hand (docs/deploy.md, "Deploy with the Azure CLI") with --no-azd: only print the id.
if [ "${1:-}" != "--no-azd" ]; then
  azd env set AUTH_CLIENT_ID "$app_id"
fi
echo "Created the app registration $app_id (AUTH_CLIENT_ID)."
