// The function app on a Flex Consumption plan (Linux, .NET 10 isolated worker), running as the user-assigned identity:
// it opens every storage account with that identity (identity-based connections, no keys), sends telemetry to
// Application Insights with it, and lets App Service Authentication use it as its client credential (a federated
// identity credential on the app registration instead of a secret). Every setting the app reads is set here.
param planName string
param appName string
param location string
param tags object
param identityId string
param identityClientId string
@description('The app\'s storage account endpoints: { blob, queue, table }.')
param storageEndpoints object
param deploymentContainerUrl string
@description('The task hub\'s own account endpoints, or {} to keep the task hub on the app\'s account.')
param taskHubStorageEndpoints object
param appInsightsConnectionString string
param authClientId string
param unauthenticatedClientAction string
param maximumInstanceCount int
param instanceMemoryMB int
param retentionDays int
param ownerIndexBuckets int
param allIndexBuckets int

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

// An identity-based connection in the Functions setting names (docs/deploy.md, "Storage connections"): the service endpoints,
// the managed identity as the credential, and which user-assigned identity it is.
func identityConnection(name string, endpoints object, clientId string) object => {
  '${name}__blobServiceUri': endpoints.blob
  '${name}__queueServiceUri': endpoints.queue
  '${name}__tableServiceUri': endpoints.table
  '${name}__credential': 'managedidentity'
  '${name}__clientId': clientId
}

var taskHubConnection = 'DurableStorage'
var taskHubSettings = empty(taskHubStorageEndpoints) ? {} : union(identityConnection(taskHubConnection, taskHubStorageEndpoints, identityClientId), {
  // host.json's extensions.durableTask.storageProvider.connectionName, set from the app settings.
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionName: taskHubConnection
})

resource settings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'appsettings'
  properties: union(identityConnection('AzureWebJobsStorage', storageEndpoints, identityClientId), taskHubSettings, {
    // Azure SDK clients that use DefaultAzureCredential pick the user-assigned identity.
    AZURE_CLIENT_ID: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    // Telemetry is sent with the identity (the component refuses instrumentation-key-only ingestion).
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // App Service Authentication proves the app registration with the identity (see authsettingsV2 below).
    OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: identityClientId
    WEBSITE_AUTH_AAD_ALLOWED_TENANTS: tenant().tenantId
    // The service's own storage: the same identity-based connection as the host's.
    Jobs__Storage__ConnectionSetting: 'AzureWebJobsStorage'
    Jobs__Storage__TablePrefix: ''
    Jobs__Storage__MaxRetries: '3'
    Jobs__Storage__ArtifactContainer: 'job-artifacts'
    // The continuations one listing call may follow before it answers a short page with a next (docs/storage.md).
    Jobs__Storage__ListContinuationBudget: '10'
    // Caps on job artifacts (docs/decisions.md, issue 31): 256 MiB each, 1 GiB per job, 100 per job.
    Jobs__Artifacts__MaxArtifactBytes: '268435456'
    Jobs__Artifacts__MaxJobBytes: '1073741824'
    Jobs__Artifacts__MaxPerJob: '100'
    Jobs__Storage__OwnerIndexBuckets: string(ownerIndexBuckets)
    Jobs__Storage__AllIndexBuckets: string(allIndexBuckets)
    // Jobs__Identity__TrustClientPrincipal stays unset: the principal header is trusted exactly while the platform
    // says App Service Authentication is on (WEBSITE_AUTH_ENABLED). No development identity in Azure.
    Jobs__Http__TrustedProxies: ''
    // Empty: returned URLs use the app's own host name (WEBSITE_HOSTNAME); a custom domain sets it (docs/deploy.md).
    Jobs__Http__PublicBaseUrl: ''
    // Empty: only the app's own pages may send state-changing requests from a browser (issue 25).
    Jobs__Http__AllowedOrigins: ''
    Jobs__Retention__MaxAgeDays: string(retentionDays)
    Jobs__Retention__MaxPerRun: '5000'
    // Who deleted which job, kept by day after the job is gone (issue 27's audit trail).
    Jobs__Retention__DeletionLogDays: '365'
    Jobs__Reconciler__GraceSeconds: '60'
    Jobs__Reconciler__MaxPerRun: '1000'
    Jobs__Reconciler__RecountMinutes: '60'
    Jobs__Events__MaxStreamsPerCaller: '5'
    Jobs__Events__MaxStreamSeconds: '110'
    Jobs__Events__HeartbeatSeconds: '15'
    Jobs__Events__PollMilliseconds: '1000'
    Jobs__Events__SettleMilliseconds: '300'
    // Events raised to a job through its own route: size and how many may wait unconsumed (issue 25).
    Jobs__RaisedEvents__MaxPayloadBytes: '16384'
    Jobs__RaisedEvents__MaxPendingPerJob: '10'
    Jobs__Telemetry__Console: 'false'
    // Signed webhooks (issue 27): https only in Azure (AllowLoopbackHttp stays unset); the try schedule spans about 24 h.
    Jobs__Webhooks__RetrySchedule: '00:00:05,00:00:30,00:02:00,00:10:00,00:30:00,01:00:00,02:00:00,04:00:00,08:00:00,08:00:00'
    Jobs__Webhooks__MaxPerOwner: '10'
    Jobs__Webhooks__TimeoutSeconds: '10'
    Jobs__Webhooks__SubscriptionCacheSeconds: '10'
    Jobs__Webhooks__SweepGraceSeconds: '60'
    Jobs__Webhooks__DeliveryRetentionDays: '30'
    Jobs__Webhooks__MaxPrunedPerRun: '2000'
    Jobs__Webhooks__AllJobsDays: '30'
    Jobs__Webhooks__FirstTryWaitMilliseconds: '2000'
    Jobs__Webhooks__ProgressIntervalSeconds: '10'
    // Recurring schedules (issue 31): at most one run a minute (AllowSubMinute stays unset).
    Jobs__Schedules__LateAfterSeconds: '60'
    Jobs__Schedules__CatchUpWindowHours: '24'
    Jobs__Schedules__HoldRecheckSeconds: '5'
    Jobs__Schedules__MaxPerOwner: '100'
    Jobs__Schedules__MaxPerRun: '200'
    // Metrics roll-ups (issue 28), kept 30 days.
    Jobs__Metrics__KeepDays: '30'
  })
}

// App Service Authentication (Easy Auth) with Entra ID in front of every route: it validates the caller's token or
// signs a browser in, strips any incoming x-ms-client-principal and sets its own, which the app then trusts.
resource auth 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: unauthenticatedClientAction
      // Probes and load balancers carry no token: the health endpoint answers them (it says nothing sensitive).
      excludedPaths: [
        '/api/health'
      ]
      redirectToProvider: 'azureactivedirectory'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
          clientId: authClientId
          clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
        }
      }
    }
    login: {
      // The app reads the caller from x-ms-client-principal, never from stored tokens; a token store would need a
      // storage location of its own (Flex Consumption has no file share), so it stays off.
      tokenStore: {
        enabled: false
      }
    }
  }
  dependsOn: [settings]
}

// Deployments go through Entra ID (azd, func publish, az functionapp deploy); no basic-auth publishing credentials.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

output name string = site.name
output uri string = 'https://${site.properties.defaultHostName}'
