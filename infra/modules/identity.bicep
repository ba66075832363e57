// The app's user-assigned managed identity: storage, the deployment package, Application Insights ingestion and App
// Service Authentication's client assertion all use it. User-assigned so its roles exist before the app starts.
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
