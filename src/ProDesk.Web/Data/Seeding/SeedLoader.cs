using System.Net.Mail;
using System.Text.Json;
using System.Text.Json.Serialization;
using ProDesk.Data.Identity;
using ProDesk.Domain.Tenancy;
using ProDesk.Web.Hosting;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Data.Seeding;

/// <summary>
/// Reads tenants-seed/ and checks it whole before anything is written. Any problem stops with a
/// <see cref="StartupException"/> naming the file (relative to the seed folder) and the field.
/// </summary>
public static class SeedLoader
{
    public static readonly string[] Priorities = ["Low", "Normal", "High", "Urgent"];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static SeedSet Load(string seedDirectory)
    {
        if (!Directory.Exists(seedDirectory))
        {
            throw new StartupException($"the seed folder {seedDirectory} does not exist (set ProDesk__SeedDirectory)");
        }

        var staff = Read<StaffFile>(seedDirectory, "staff.json");
        var demo = staff.Demo is not null;
        var tenants = new List<TenantSeed>();
        foreach (var folder in Directory.GetDirectories(seedDirectory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(folder);
            if (name.StartsWith('.'))
            {
                continue;
            }

            var seed = ReadTenant(seedDirectory, name);
            demo |= seed.Channels.Demo is not null || seed.Clients.Demo is not null;
            tenants.Add(seed);
        }

        Validate(staff, tenants);
        return new SeedSet(staff, tenants, demo);
    }

    private static TenantSeed ReadTenant(string root, string folder)
    {
        string F(string file) => Path.Combine(folder, file);
        var tenant = Read<TenantFile>(root, F("tenant.json"));
        var plan = Read<PlanFile>(root, F("plan.json"));
        var seed = new TenantSeed(
            folder,
            tenant,
            Read<QueuesFile>(root, F("queues.json")),
            Read<SlaFile>(root, F("sla.json")),
            Read<ChannelsFile>(root, F("channels.json")),
            Read<ClientsFile>(root, F("clients.json")),
            Read<UsersFile>(root, F("users.json")),
            plan,
            JsonSerializer.Serialize(plan, Json));
        ValidateTenant(seed);
        return seed;
    }

    private static T Read<T>(string root, string relative)
    {
        var path = Path.Combine(root, relative);
        if (!File.Exists(path))
        {
            throw Fail(relative, "file", "is missing");
        }

        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize<T>(stream, Json) ?? throw Fail(relative, "$", "is null");
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 0 } p ? p : "$";
            var line = e.LineNumber is { } l ? $" (line {l + 1})" : "";
            throw new StartupException($"{relative}: {where}{line}: {FirstSentence(e.Message)}", e);
        }
    }

    private static void ValidateTenant(TenantSeed seed)
    {
        var t = seed.Tenant;
        var file = Path.Combine(seed.Folder, "tenant.json");
        Check(TenantSlug.Explain(t.Slug) is not { } slugError, file, "slug", $"'{t.Slug}' {TenantSlug.Explain(t.Slug)}");
        Check(t.Slug == seed.Folder, file, "slug", $"'{t.Slug}' must match its folder name '{seed.Folder}'");
        Check(!string.IsNullOrWhiteSpace(t.Name) && t.Name.Length <= 200, file, "name", "must be 1 to 200 characters");
        Check(TimeZoneInfo.TryFindSystemTimeZoneById(t.TimeZone, out _), file, "timeZone", $"'{t.TimeZone}' is not a known IANA time zone");
        for (var i = 0; i < t.Hosts.Count; i++)
        {
            Check(Uri.CheckHostName(t.Hosts[i]) == UriHostNameType.Dns && !t.Hosts[i].Any(char.IsUpper), file, $"hosts[{i}]", $"'{t.Hosts[i]}' is not a lowercase DNS host name");
        }

        Check(t.Calendar.ToWeeklyHours(out var calendarError) is not null, file, "calendar", calendarError ?? "");
        Check(t.DemoHistory.Contacts is >= 0 and <= 10_000, file, "demoHistory.contacts", "must be between 0 and 10000");
        for (var i = 0; i < t.Fields.Count; i++)
        {
            var field = t.Fields[i];
            Check(TenantSlug.IsValid(field.Key.Replace('_', '-')), file, $"fields[{i}].key", $"'{field.Key}' must be lowercase letters, digits, '-' or '_'");
            Check(t.Fields.FindIndex(f => f.Key == field.Key) == i, file, $"fields[{i}].key", $"'{field.Key}' is listed twice");
            Check(CustomFields.Types.Contains(field.Type), file, $"fields[{i}].type", $"'{field.Type}' is not one of {string.Join(", ", CustomFields.Types)}");
            Check(field.Type != "choice" || field.Choices.Count > 0, file, $"fields[{i}].choices", "a choice field needs choices");
        }

        var queuesFile = Path.Combine(seed.Folder, "queues.json");
        var queues = seed.Queues.Queues;
        Check(queues.Count > 0, queuesFile, "queues", "needs at least one queue");
        for (var i = 0; i < queues.Count; i++)
        {
            Check(TenantSlug.IsValid(queues[i].Key), queuesFile, $"queues[{i}].key", $"'{queues[i].Key}' must be lowercase letters, digits and hyphens");
            Check(queues.FindIndex(q => q.Key == queues[i].Key) == i, queuesFile, $"queues[{i}].key", $"'{queues[i].Key}' is listed twice");
            Check(EnumNames.TryParse<ProDesk.Data.Queues.QueueRouting>(queues[i].Routing, ignoreCase: false, out _), queuesFile, $"queues[{i}].routing", $"'{queues[i].Routing}' is not one of {string.Join(", ", Enum.GetNames<ProDesk.Data.Queues.QueueRouting>())}");
        }

        Check(queues.Count(q => q.Default) == 1, queuesFile, "queues[].default", "exactly one queue must be the default");

        var slaFile = Path.Combine(seed.Folder, "sla.json");
        var policies = seed.Sla.Policies;
        for (var i = 0; i < policies.Count; i++)
        {
            var p = policies[i];
            Check(queues.Any(q => q.Key == p.Queue), slaFile, $"policies[{i}].queue", $"'{p.Queue}' is not a queue in queues.json");
            Check(Priorities.Contains(p.Priority), slaFile, $"policies[{i}].priority", $"'{p.Priority}' is not one of {string.Join(", ", Priorities)}");
            foreach (var (field, problem) in Sla.SlaPolicyRules.Check(
                p.FirstResponseMinutes, p.NextResponseMinutes, p.ResolutionMinutes, p.WarningPercents, p.PauseStatuses, p.Escalations, [.. queues.Select(q => q.Key)]))
            {
                Check(false, slaFile, $"policies[{i}].{field}", problem);
            }

            Check(policies.FindIndex(o => o.Queue == p.Queue && o.Priority == p.Priority) == i, slaFile, $"policies[{i}]", $"{p.Queue}/{p.Priority} is listed twice");
        }

        var channelsFile = Path.Combine(seed.Folder, "channels.json");
        Check(seed.Channels.InboundKey.Length >= 24, channelsFile, "inboundKey", "must be at least 24 characters");
        Check(seed.Channels.WidgetKey.Length >= 16, channelsFile, "widgetKey", "must be at least 16 characters");
        Check(seed.Channels.SupportAddress is null || MailAddress.TryCreate(seed.Channels.SupportAddress, out _), channelsFile, "supportAddress", "is not an email address");
        var acknowledgment = seed.Channels.AcknowledgmentText is { } text ? ProDesk.Web.Channels.Email.AcknowledgmentText.Problem(text) : null;
        Check(acknowledgment is null, channelsFile, "acknowledgmentText", acknowledgment ?? "");

        var clientsFile = Path.Combine(seed.Folder, "clients.json");
        Check(seed.Clients.ClientId == $"{t.Slug}-integration", clientsFile, "clientId", $"must be '{t.Slug}-integration'");
        Check(seed.Clients.ClientSecret.Length >= 24, clientsFile, "clientSecret", "must be at least 24 characters");

        var usersFile = Path.Combine(seed.Folder, "users.json");
        for (var i = 0; i < seed.Users.Users.Count; i++)
        {
            var u = seed.Users.Users[i];
            Check(MailAddress.TryCreate(u.Email, out _), usersFile, $"users[{i}].email", $"'{u.Email}' is not an email address");
            Check(Roles.Client.Contains(u.Role), usersFile, $"users[{i}].role", $"'{u.Role}' is not one of {string.Join(", ", Roles.Client)}");
        }

        var planFile = Path.Combine(seed.Folder, "plan.json");
        Check(!string.IsNullOrWhiteSpace(seed.Plan.Name), planFile, "name", "is empty");
        Check(seed.Plan.Currency.Length == 3 && seed.Plan.Currency.All(char.IsAsciiLetterUpper), planFile, "currency", $"'{seed.Plan.Currency}' is not an ISO 4217 code like EUR");
        Check(seed.Plan.MonthlyBaseFee >= 0, planFile, "monthlyBaseFee", "must not be negative");
        Check(seed.Plan.MinimumMonthly >= 0, planFile, "minimumMonthly", "must not be negative");
        Check(seed.Plan.SlaTargetPercent is > 0 and <= 100, planFile, "slaTargetPercent", "must be above 0 and at most 100");
        Check(seed.Plan.SlaCreditPercent is >= 0 and <= 100, planFile, "slaCreditPercent", "must be between 0 and 100");
        foreach (var (unit, price) in seed.Plan.UnitPrices)
        {
            Check(price >= 0, planFile, $"unitPrices.{unit}", "must not be negative");
        }
    }

    private static void Validate(StaffFile staff, List<TenantSeed> tenants)
    {
        var slugs = tenants.Select(t => t.Tenant.Slug).ToHashSet(StringComparer.Ordinal);
        Check(staff.Staff.Count > 0, "staff.json", "staff", "needs at least one provider admin");
        Check(staff.Staff.Any(s => s.Role == Roles.ProviderAdmin), "staff.json", "staff", "needs at least one ProviderAdmin");
        Check(staff.DemoPassword is null || staff.Demo is not null, "staff.json", "demoPassword", "is allowed only in a file marked \"_demo\"");
        for (var i = 0; i < staff.Staff.Count; i++)
        {
            var s = staff.Staff[i];
            Check(MailAddress.TryCreate(s.Email, out _), "staff.json", $"staff[{i}].email", $"'{s.Email}' is not an email address");
            Check(Roles.Staff.Contains(s.Role), "staff.json", $"staff[{i}].role", $"'{s.Role}' is not one of {string.Join(", ", Roles.Staff)}");
            for (var j = 0; j < s.Tenants.Count; j++)
            {
                Check(s.Tenants[j] == "*" || slugs.Contains(s.Tenants[j]), "staff.json", $"staff[{i}].tenants[{j}]", $"'{s.Tenants[j]}' is not a tenant folder");
            }
        }

        var emails = staff.Staff.Select(s => s.Email).Concat(tenants.SelectMany(t => t.Users.Users.Select(u => u.Email)))
            .GroupBy(e => e, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        Check(emails is null, "staff.json", "email", $"'{emails?.Key}' is used by more than one user");

        var hosts = tenants.SelectMany(t => t.Tenant.Hosts.Select(h => (h, t.Folder))).GroupBy(x => x.h).FirstOrDefault(g => g.Count() > 1);
        Check(hosts is null, Path.Combine(hosts?.Last().Folder ?? "", "tenant.json"), "hosts", $"'{hosts?.Key}' belongs to another tenant too");
    }

    private static void Check(bool ok, string file, string field, string problem)
    {
        if (!ok)
        {
            throw Fail(file, field, problem);
        }
    }

    private static StartupException Fail(string file, string field, string problem) => new($"{file}: {field}: {problem}");

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
