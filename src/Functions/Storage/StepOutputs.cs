using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;

namespace Jobs.Functions.Storage;

/// <summary>What a completed step returned, as kept with its job for a resume (<see cref="StepOutputs"/>).</summary>
/// <param name="StepIndex">The step's 0-based index.</param>
/// <param name="StepName">The step's name.</param>
/// <param name="Output">What it returned (null for nothing).</param>
/// <param name="Kept">False when the output was too large to keep: a job that failed after such a step cannot be resumed.</param>
public sealed record KeptStepOutput(int StepIndex, string StepName, bool Kept, JsonElement? Output);

/// <summary>
/// Each completed step's output, kept in the job's own partition (RowKey <c>out-{index}</c>) so a failed job can be
/// resumed at the step that failed with what the step before it returned. A step's output is written with the next
/// step's start — the record change the next activity makes anyway — so keeping it costs no request. It goes with the
/// job (purge, retention). Outputs are split over columns (a Table string property holds 32K characters); one larger
/// than <see cref="MaxChars"/> is recorded as not kept.
/// </summary>
public static class StepOutputs
{
    public const string RowKeyPrefix = "out-";
    public const string RangeEnd = "out.";

    /// <summary>Characters of JSON kept per step: 15 columns of <see cref="JobEntity.MaxColumnChars"/>, within an entity's 1 MiB.</summary>
    public const int MaxChars = 15 * JobEntity.MaxColumnChars;

    public static string RowKey(int stepIndex) => RowKeyPrefix + stepIndex.ToString("D3", CultureInfo.InvariantCulture);

    public static TableEntity ToEntity(string jobId, KeptStepOutput output)
    {
        var row = new TableEntity(jobId, RowKey(output.StepIndex)) { ["Step"] = output.StepName, ["StepIndex"] = output.StepIndex };
        var json = output.Output?.GetRawText();
        if (!output.Kept || (json is not null && json.Length > MaxChars))
        {
            row["TooLarge"] = true;
            return row;
        }
        if (json is not null)
        {
            var parts = 0;
            for (var start = 0; start < json.Length; start += JobEntity.MaxColumnChars, parts++)
            {
                row["Output" + parts.ToString(CultureInfo.InvariantCulture)] = json.Substring(start, Math.Min(JobEntity.MaxColumnChars, json.Length - start));
            }
            row["Parts"] = parts;
        }
        return row;
    }

    public static KeptStepOutput FromEntity(TableEntity row)
    {
        var index = row.GetInt32("StepIndex") ?? 0;
        var step = row.GetString("Step") ?? "";
        if (row.GetBoolean("TooLarge") == true)
        {
            return new KeptStepOutput(index, step, false, null);
        }
        var parts = row.GetInt32("Parts") ?? 0;
        if (parts == 0)
        {
            return new KeptStepOutput(index, step, true, null);
        }
        var json = new StringBuilder();
        for (var part = 0; part < parts; part++)
        {
            json.Append(row.GetString("Output" + part.ToString(CultureInfo.InvariantCulture)));
        }
        return new KeptStepOutput(index, step, true, JsonDocument.Parse(json.ToString()).RootElement.Clone());
    }
}
