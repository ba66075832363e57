using Grpc.Core;

namespace Jobs.Functions.Lifecycle;

/// <summary>
/// How the isolated worker's durable client reports that an instance is not there for an operation. Under the Functions
/// host, terminate, raise event, suspend and resume go over gRPC to the Durable extension, which answers an unknown
/// instance with <see cref="StatusCode.NotFound"/> and one whose state refuses the operation (it has ended, or resume of
/// an instance that is not suspended) with <see cref="StatusCode.FailedPrecondition"/>; GrpcDurableTaskClient passes
/// both through as <see cref="RpcException"/> (Microsoft.Azure.WebJobs.Extensions.DurableTask TaskHubGrpcServer,
/// microsoft/durabletask-dotnet GrpcDurableTaskClient). Starting an id that is still live throws
/// <see cref="DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException"/> instead.
/// </summary>
public static class DurableInstanceErrors
{
    /// <summary>The instance does not exist (never started, or purged).</summary>
    public static bool IsUnknown(Exception exception) => exception is RpcException { StatusCode: StatusCode.NotFound };

    /// <summary>The instance exists but its state refuses the operation: it has ended.</summary>
    public static bool IsEnded(Exception exception) => exception is RpcException { StatusCode: StatusCode.FailedPrecondition };
}
