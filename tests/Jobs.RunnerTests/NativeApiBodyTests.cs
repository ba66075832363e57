using Jobs.LocalRunner.Durable;

namespace Jobs.RunnerTests;

/// <summary>
/// The native API reads request bodies with Newtonsoft.Json as 3.18.0's HttpApiHandler does (read from the assembly:
/// HandleStartOrchestratorRequestAsync's JsonConvert.DeserializeObject with MessagePayloadDataConverter.JsonSettings,
/// HandleRaiseEventRequestAsync's MessagePayloadDataConverter.ConvertToJToken): what Newtonsoft accepts beyond strict JSON
/// is accepted and stored as plain JSON; what it refuses is the route's 400 "Invalid JSON content".
/// </summary>
public sealed class NativeApiBodyTests
{
    [Theory]
    [InlineData("{name: 'x', /* a comment */ list: [1, 2,],}", """{"name":"x","list":[1,2]}""")]
    [InlineData("{\"at\": \"2026-12-07T10:00:00Z\"}", """{"at":"2026-12-07T10:00:00Z"}""")]
    [InlineData("42", "42")]
    public void LenientBodies_AreAccepted_AndStoredAsPlainJson(string body, string stored) =>
        Assert.Equal(stored, NativeDurableApi.LenientJson(body));

    [Fact]
    public void Null_IsNoInput() => Assert.Null(NativeDurableApi.LenientJson("null"));

    [Theory]
    [InlineData("{not json")]
    [InlineData("{\"a\": 1} trailing")]
    public void WhatNewtonsoftRefuses_IsRefused(string body) =>
        Assert.ThrowsAny<Newtonsoft.Json.JsonException>(() => NativeDurableApi.LenientJson(body));
}
