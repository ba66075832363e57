// Jobs on Azure: a Flex Consumption function app that opens storage with its managed identity (no keys anywhere),
// Application Insights on Log Analytics, and App Service Authentication (Entra ID) in front. docs/deploy.md walks
// through it; `azd up` (azure.yaml) or `az deployment sub create` deploys it.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('Name of the environment (azd: AZURE_ENV_NAME); names the resource group and seeds the resource names.')
param environmentName string

@minLength(1)
@description('Region of every resource; it must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string

@description('Application (client) id of the Entra app registration users sign in to (infra/hooks/preprovision.sh creates one).')
param authClientId string

@description('Give the Durable task hub a storage account of its own (its queues and tables apart from the app\'s data).')
param separateTaskHubStorage bool = false

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each instance (Flex Consumption sizes).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Jobs__Retention__MaxAgeDays: ended jobs older than this many days are deleted.')
@minValue(1)
param retentionDays int = 30

@description('Jobs__Storage__OwnerIndexBuckets: fixed at the first start (docs/scale.md).')
@minValue(1)
@maxValue(16)
param ownerIndexBuckets int = 1

@description('Jobs__Storage__AllIndexBuckets: fixed at the first start (docs/scale.md).')
@minValue(1)
@maxValue(64)
param allIndexBuckets int = 5

@description('What App Service Authentication does with a request that carries no sign-in.')
@allowed(['RedirectToLoginPage', 'Return401'])
param unauthenticatedClientAction string = 'RedirectToLoginPage'

var tags = { 'azd-env-name': environmentName }
var token = toLower(uniqueString(subscription().id, environmentName, location))

resource group 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: group
  params: {
    name: 'id-jobs-${token}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: group
  params: {
    workspaceName: 'log-jobs-${token}'
    componentName: 'appi-jobs-${token}'
    location: location
    tags: tags
    publisherPrincipalId: identity.outputs.principalId
  }
}

// The app's account: the host's own use (AzureWebJobsStorage: keys, timers, the deployment package), the service's
// tables, queues and export blobs, and the task hub unless it gets its own account.
module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: group
  params: {
    name: 'stjobs${token}'
    location: location
    tags: tags
    containers: [deploymentContainer]
    principalId: identity.outputs.principalId
    roles: [storageBlobDataOwner, storageQueueDataContributor, storageTableDataContributor]
  }
}

module taskHubStorage 'modules/storage.bicep' = if (separateTaskHubStorage) {
  name: 'task-hub-storage'
  scope: group
  params: {
    name: 'sthub${token}'
    location: location
    tags: tags
    containers: []
    principalId: identity.outputs.principalId
    // What the Durable extension's Azure Storage provider needs: partition leases (blobs), control and work-item
    // queues, the History and Instances tables.
    roles: [storageBlobDataContributor, storageQueueDataContributor, storageTableDataContributor]
  }
}

module app 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: group
  params: {
    planName: 'plan-jobs-${token}'
    appName: 'func-jobs-${token}'
    location: location
    tags: union(tags, { 'azd-service-name': 'api' })
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageEndpoints: storage.outputs.endpoints
    deploymentContainerUrl: '${storage.outputs.endpoints.blob}${deploymentContainer}'
    taskHubStorageEndpoints: separateTaskHubStorage ? taskHubStorage!.outputs.endpoints : {}
    appInsightsConnectionString: monitoring.outputs.connectionString
    authClientId: authClientId
    unauthenticatedClientAction: unauthenticatedClientAction
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    retentionDays: retentionDays
    ownerIndexBuckets: ownerIndexBuckets
    allIndexBuckets: allIndexBuckets
  }
}

// Built-in role definitions (their ids are the same in every tenant).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var deploymentContainer = 'app-package'

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = group.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.name
output SERVICE_API_URI string = app.outputs.uri
output AUTH_CLIENT_ID string = authClientId
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
