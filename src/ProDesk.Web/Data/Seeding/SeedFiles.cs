using System.Text.Json.Serialization;
using ProDesk.Web.Sla;

namespace ProDesk.Web.Data.Seeding;

// The shapes of the files in tenants-seed/. Unknown fields are refused (a typo must not be
// silently ignored); "_demo" marks a file whose secrets are demo values, refused in Production.

public sealed class StaffFile
{
    [JsonPropertyName("_demo")]
    public string? Demo { get; set; }

    /// <summary>Every demo user signs in with this password (Development only).</summary>
    public string? DemoPassword { get; set; }

    [JsonRequired]
    public List<StaffMemberFile> Staff { get; set; } = [];
}

public sealed class StaffMemberFile
{
    [JsonRequired]
    public string Email { get; set; } = "";

    [JsonRequired]
    public string DisplayName { get; set; } = "";

    [JsonRequired]
    public string Role { get; set; } = "";

    /// <summary>Slugs of the tenants served; ["*"] for all of them.</summary>
    public List<string> Tenants { get; set; } = [];

    /// <summary>Skills routing matches against queues' required skills (e.g. languages: "fr", "en").</summary>
    public List<string> Skills { get; set; } = [];
}

public sealed class TenantFile
{
    [JsonRequired]
    public string Slug { get; set; } = "";

    [JsonRequired]
    public string Name { get; set; } = "";

    [JsonRequired]
    public string TimeZone { get; set; } = "";

    /// <summary>Bogus locale for the demo history (e.g. fr, en_US, en).</summary>
    public string Locale { get; set; } = "en";

    public List<string> Hosts { get; set; } = [];

    [JsonRequired]
    public CalendarDocument Calendar { get; set; } = new();

    public DemoHistoryFile DemoHistory { get; set; } = new();

    /// <summary>Custom fields on this tenant's work items.</summary>
    public List<CustomFieldDefinition> Fields { get; set; } = [];
}

/// <summary>One custom field of a tenant: text, number, date (yyyy-MM-dd) or choice.</summary>
public sealed class CustomFieldDefinition
{
    [JsonRequired]
    public string Key { get; set; } = "";

    [JsonRequired]
    public string Label { get; set; } = "";

    [JsonRequired]
    public string Type { get; set; } = "";

    public List<string> Choices { get; set; } = [];

    public bool Required { get; set; }
}

public sealed class DemoHistoryFile
{
    public int Contacts { get; set; } = 25;
}

public sealed class QueuesFile
{
    [JsonRequired]
    public List<QueueFile> Queues { get; set; } = [];
}

public sealed class QueueFile
{
    [JsonRequired]
    public string Key { get; set; } = "";

    [JsonRequired]
    public string Name { get; set; } = "";

    public bool Default { get; set; }

    /// <summary>Pull (default), RoundRobin or LeastLoaded.</summary>
    public string Routing { get; set; } = "Pull";

    /// <summary>Skills an agent needs to take this queue's work.</summary>
    public List<string> RequiredSkills { get; set; } = [];
}

public sealed class SlaFile
{
    [JsonRequired]
    public List<SlaPolicyFile> Policies { get; set; } = [];
}

public sealed class SlaPolicyFile
{
    [JsonRequired]
    public string Queue { get; set; } = "";

    [JsonRequired]
    public string Priority { get; set; } = "";

    public int? FirstResponseMinutes { get; set; }

    public int? NextResponseMinutes { get; set; }

    public int? ResolutionMinutes { get; set; }

    /// <summary>Shares of each goal at which warnings fire; default 75 and 90.</summary>
    public List<int>? WarningPercents { get; set; }

    /// <summary>Statuses that pause the clocks; default Pending and OnHold.</summary>
    public List<string>? PauseStatuses { get; set; }

    public List<Sla.SlaEscalation>? Escalations { get; set; }
}

public sealed class ChannelsFile
{
    [JsonPropertyName("_demo")]
    public string? Demo { get; set; }

    /// <summary>Authenticates POST /channels/email/{tenant}/inbound (X-ProDesk-Key).</summary>
    [JsonRequired]
    public string InboundKey { get; set; } = "";

    /// <summary>Identifies the tenant's chat widget and web form.</summary>
    [JsonRequired]
    public string WidgetKey { get; set; } = "";

    public string? SupportAddress { get; set; }

    /// <summary>Signs inbound SMS/WhatsApp webhooks (X-Twilio-Signature), as the gateway's auth token.</summary>
    public string? SmsAuthToken { get; set; }

    /// <summary>The tenant's SMS/WhatsApp number (E.164), the sender of replies.</summary>
    public string? SmsNumber { get; set; }

    /// <summary>The acknowledgment of new mail in the client's words (placeholders as canned replies'); absent: the standard text.</summary>
    public string? AcknowledgmentText { get; set; }
}

public sealed class ClientsFile
{
    [JsonPropertyName("_demo")]
    public string? Demo { get; set; }

    [JsonRequired]
    public string ClientId { get; set; } = "";

    [JsonRequired]
    public string ClientSecret { get; set; } = "";
}

public sealed class UsersFile
{
    [JsonRequired]
    public List<ClientUserFile> Users { get; set; } = [];
}

public sealed class ClientUserFile
{
    [JsonRequired]
    public string Email { get; set; } = "";

    [JsonRequired]
    public string DisplayName { get; set; } = "";

    [JsonRequired]
    public string Role { get; set; } = "";
}

public sealed class PlanFile
{
    [JsonRequired]
    public string Name { get; set; } = "";

    [JsonRequired]
    public string Currency { get; set; } = "";

    public decimal MonthlyBaseFee { get; set; }

    public decimal MinimumMonthly { get; set; }

    /// <summary>Usage unit (conversation, message, callMinute, invoice, dataEntryItem, agentHour) to the volume included in the base fee.</summary>
    public Dictionary<string, int> Included { get; set; } = [];

    /// <summary>Usage unit to the price per unit beyond the included volume.</summary>
    public Dictionary<string, decimal> UnitPrices { get; set; } = [];

    /// <summary>Contracted monthly SLA compliance, in percent; below it a credit applies.</summary>
    public decimal SlaTargetPercent { get; set; } = 95m;

    public decimal SlaCreditPercent { get; set; }
}

/// <summary>One tenant's folder, read and checked.</summary>
public sealed record TenantSeed(
    string Folder,
    TenantFile Tenant,
    QueuesFile Queues,
    SlaFile Sla,
    ChannelsFile Channels,
    ClientsFile Clients,
    UsersFile Users,
    PlanFile Plan,
    string PlanJson);

/// <summary>The whole seed directory, read and checked.</summary>
public sealed record SeedSet(StaffFile Staff, IReadOnlyList<TenantSeed> Tenants, bool HasDemoSecrets);
