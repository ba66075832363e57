#!/bin/sh
# azd postprovision hook: now that the function app and its identity exist, tells the app registration where sign-ins
# return (the app's /.auth/login/aad/callback) and lets the app's managed identity act as the registration's credential
# (a federated identity credential: App Service Authentication then needs no client secret). Safe to run again.
set -eu
: "${AUTH_CLIENT_ID:?}" "${SERVICE_API_URI:?}" "${AZURE_TENANT_ID:?}" "${MANAGED_IDENTITY_PRINCIPAL_ID:?}"
az ad app update --id "$AUTH_CLIENT_ID" --web-redirect-uris "$SERVICE_API_URI/.auth/login/aad/callback"
name=jobs-app-identity
existing=$(az ad app federated-credential list --id "$AUTH_CLIENT_ID" --query "[?name=='$name'] | length(@)" -o tsv)
if [ "$existing" = "0" ]; then
  az ad app federated-credential create --id "$AUTH_CLIENT_ID" --parameters "{
    \"name\": \"$name\",
    \"issuer\": \"https://login.microsoftonline.com/$AZURE_TENANT_ID/v2.0\",
    \"subject\": \"$MANAGED_IDENTITY_PRINCIPAL_ID\",
    \"audiences\": [\"api://AzureADTokenExchange\"]
  }" > /dev/null
fi
echo "Sign in at $SERVICE_API_URI/api/dashboard (docs/deploy.md: giving someone the admin role)."
