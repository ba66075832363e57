namespace Jobs.Functions.Model;

/// <summary>The resource a job belongs to, e.g. <c>{ "type": "release", "id": "42" }</c>.</summary>
public sealed record EntityRef(string Type, string Id);
