using System.Text.Json;
using System.Text.Json.Serialization;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Hosting;

namespace ProDesk.Web.Sla;

/// <summary>What an SLA policy does when a warning or a breach fires.</summary>
public sealed record SlaEscalation(
    [property: JsonRequired] string On,
    [property: JsonRequired] string Action,
    string? Queue = null)
{
    public const string OnWarning = "warning";
    public const string OnBreach = "breach";

    /// <summary>Flags the event for supervisors: their wallboard raises an alert.</summary>
    public const string NotifySupervisors = "notifySupervisors";

    /// <summary>One priority step up (Urgent stays Urgent).</summary>
    public const string RaisePriority = "raisePriority";

    /// <summary>Moves the item to <see cref="Queue"/> (a queue key of the tenant).</summary>
    public const string MoveToQueue = "moveToQueue";

    /// <summary>Takes the item from its assignee and puts it back up for the next free agent.</summary>
    public const string Reassign = "reassign";

    public static readonly string[] Actions = [NotifySupervisors, RaisePriority, MoveToQueue, Reassign];

    public static IReadOnlyList<SlaEscalation> Parse(string json) =>
        JsonSerializer.Deserialize<List<SlaEscalation>>(json, JsonSerializerOptions.Web) ?? [];

    public static string Serialize(IReadOnlyList<SlaEscalation> escalations) => JsonSerializer.Serialize(escalations, JsonSerializerOptions.Web);
}

/// <summary>The checks every SLA policy passes, from a seed file or the admin editor, with the field at fault.</summary>
public static class SlaPolicyRules
{
    public static readonly string[] DefaultPauseStatuses = [nameof(WorkItemStatus.Pending), nameof(WorkItemStatus.OnHold)];

    /// <summary>Pause statuses as a set in the statuses' own order: the same ones listed otherwise are the same policy.</summary>
    public static IEnumerable<string> InStatusOrder(IEnumerable<string> statuses) =>
        statuses.Distinct(StringComparer.Ordinal).OrderBy(s => Enum.TryParse<WorkItemStatus>(s, out var status) ? (int)status : int.MaxValue);

    public static readonly int[] DefaultWarningPercents = [75, 90];

    /// <summary>Problems as (field, message); <paramref name="queueKeys"/> are the tenant's queues.</summary>
    public static IEnumerable<(string Field, string Message)> Check(
        int? firstResponseMinutes, int? nextResponseMinutes, int? resolutionMinutes,
        IReadOnlyList<int>? warningPercents, IReadOnlyList<string>? pauseStatuses, IReadOnlyList<SlaEscalation>? escalations,
        IReadOnlyCollection<string> queueKeys)
    {
        foreach (var (field, minutes) in new[] { ("firstResponseMinutes", firstResponseMinutes), ("nextResponseMinutes", nextResponseMinutes), ("resolutionMinutes", resolutionMinutes) })
        {
            if (minutes is not null and (<= 0 or > 525_600))
            {
                yield return (field, "must be between 1 and 525600 (a year)");
            }
        }

        // A resolution due before the first answer is a typo (hours for minutes), and would breach every item that waits.
        if (firstResponseMinutes is > 0 and <= 525_600 && resolutionMinutes is > 0 and <= 525_600 && resolutionMinutes < firstResponseMinutes)
        {
            yield return ("resolutionMinutes", $"must be at least firstResponseMinutes ({firstResponseMinutes}): an item is not resolved before it is first answered");
        }

        for (var i = 0; i < (warningPercents?.Count ?? 0); i++)
        {
            if (warningPercents![i] is <= 0 or >= 100)
            {
                yield return ($"warningPercents[{i}]", "must be above 0 and below 100");
            }
            else if (warningPercents.Take(i).Contains(warningPercents[i]))
            {
                yield return ($"warningPercents[{i}]", $"{warningPercents[i]} is listed twice");
            }
        }

        for (var i = 0; i < (pauseStatuses?.Count ?? 0); i++)
        {
            if (!EnumNames.TryParse<WorkItemStatus>(pauseStatuses![i], ignoreCase: false, out var status)
                || status is not (WorkItemStatus.Pending or WorkItemStatus.OnHold))
            {
                // Open is where the desk owes the next step: the clocks run there by definition.
                yield return ($"pauseStatuses[{i}]", $"must be one of {nameof(WorkItemStatus.Pending)}, {nameof(WorkItemStatus.OnHold)}");
            }
        }

        for (var i = 0; i < (escalations?.Count ?? 0); i++)
        {
            var escalation = escalations![i];
            if (escalation.On is not (SlaEscalation.OnWarning or SlaEscalation.OnBreach))
            {
                yield return ($"escalations[{i}].on", $"must be {SlaEscalation.OnWarning} or {SlaEscalation.OnBreach}");
            }

            if (!SlaEscalation.Actions.Contains(escalation.Action))
            {
                yield return ($"escalations[{i}].action", $"must be one of {string.Join(", ", SlaEscalation.Actions)}");
            }
            else if (escalation.Action == SlaEscalation.MoveToQueue && (escalation.Queue is null || !queueKeys.Contains(escalation.Queue)))
            {
                yield return ($"escalations[{i}].queue", $"must be one of the tenant's queues: {string.Join(", ", queueKeys)}");
            }
            else if (escalation.Action != SlaEscalation.MoveToQueue && escalation.Queue is not null)
            {
                // Stored unread, it would show on the policy as if the action went somewhere.
                yield return ($"escalations[{i}].queue", $"must be left out: only {SlaEscalation.MoveToQueue} names a queue");
            }
        }
    }
}
