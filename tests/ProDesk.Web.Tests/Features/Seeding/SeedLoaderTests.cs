using System.Text.Json.Nodes;
using ProDesk.Data.Identity;
using ProDesk.Web.Data.Seeding;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Seeding;

/// <summary>The demo tenants as shipped, and the loader's refusal of bad files with the file and field named.</summary>
public sealed class SeedLoaderTests
{
    [Fact]
    public void The_shipped_seed_has_the_demo_tenants_the_contract_names()
    {
        var seed = SeedLoader.Load(Repository.SeedDirectory);
        var slugs = seed.Tenants.Select(t => t.Tenant.Slug).ToList();
        Assert.Contains("sla-lab", slugs);
        Assert.True(seed.Tenants.Count(t => t.Tenant.Slug != "sla-lab") >= 3);
        Assert.True(seed.Tenants.Select(t => t.Tenant.TimeZone).Distinct().Count() >= 4);
        Assert.True(seed.HasDemoSecrets);

        foreach (var tenant in seed.Tenants)
        {
            Assert.Equal($"{tenant.Tenant.Slug}-integration", tenant.Clients.ClientId);
            Assert.Contains("DEMO", tenant.Clients.Demo, StringComparison.Ordinal);
            Assert.Contains(tenant.Users.Users, u => u.Email == $"admin@{tenant.Tenant.Slug}.test" && u.Role == Roles.ClientAdmin);
            Assert.NotEmpty(tenant.Channels.InboundKey);
            Assert.NotEmpty(tenant.Channels.WidgetKey);
        }
    }

    [Fact]
    public void The_sla_lab_is_open_around_the_clock_with_a_one_minute_first_response_on_fast()
    {
        var lab = SeedLoader.Load(Repository.SeedDirectory).Tenants.Single(t => t.Tenant.Slug == "sla-lab");
        Assert.True(lab.Tenant.Calendar.AlwaysOpen);
        Assert.Equal("fast", lab.Queues.Queues.Single(q => q.Default).Key);
        Assert.All(lab.Sla.Policies.Where(p => p.Queue == "fast"), p => Assert.Equal(1, p.FirstResponseMinutes));
    }

    [Fact]
    public void Provider_staff_match_the_contract_and_agents_serve_different_tenants()
    {
        var staff = SeedLoader.Load(Repository.SeedDirectory).Staff;
        Assert.Equal("ProDesk-Demo-1!", staff.DemoPassword);
        Assert.Contains(staff.Staff, s => s.Email == "admin@prodesk.test" && s.Role == Roles.ProviderAdmin);
        Assert.Contains(staff.Staff, s => s.Email == "supervisor@prodesk.test" && s.Role == Roles.Supervisor);
        var agents = staff.Staff.Where(s => s.Role == Roles.Agent).ToList();
        Assert.Equal(["agent1@prodesk.test", "agent2@prodesk.test", "agent3@prodesk.test", "agent4@prodesk.test"], agents.Select(a => a.Email).Order());
        Assert.Equal(agents.Count, agents.Select(a => string.Join(',', a.Tenants.Order())).Distinct().Count());
        Assert.Contains(agents, a => a.Tenants.SequenceEqual(["*"]));
    }

    public static TheoryData<string, string, string> BrokenFiles => new()
    {
        { "acme/tenant.json", """{"timeZone": "Europe/Pariss"}""", "acme/tenant.json: timeZone: 'Europe/Pariss' is not a known IANA time zone" },
        { "acme/tenant.json", """{"timeZon": "Europe/Paris"}""", "acme/tenant.json: $.timeZon" },
        { "acme/tenant.json", """{"slug": "acme-corp"}""", "acme/tenant.json: slug: 'acme-corp' must match its folder name 'acme'" },
        { "acme/tenant.json", """{"hosts": ["Support.Acme.test"]}""", "acme/tenant.json: hosts[0]" },
        { "acme/tenant.json", """{"calendar": {"weeklyHours": {"monday": ["09:00-13:00", "12:00-17:00"]}}}""", "acme/tenant.json: calendar: weeklyHours: Monday: 09:00-13:00 overlaps 12:00-17:00" },
        { "acme/tenant.json", """{"calendar": {"weeklyHours": {"funday": ["09:00-13:00"]}}}""", "acme/tenant.json: calendar: weeklyHours.funday: not a weekday" },
        { "acme/tenant.json", """{"calendar": {"weeklyHours": {"monday": ["9am-5pm"]}}}""", "acme/tenant.json: calendar: weeklyHours.monday[0]: '9am-5pm'" },
        { "acme/tenant.json", """{"calendar": {"holidays": [{"date": "2026-13-01", "name": "Nope"}]}}""", "acme/tenant.json: $.calendar.holidays[0].date" },
        { "northwind/tenant.json", """{"hosts": ["support.acme.test"]}""", "'support.acme.test' belongs to another tenant too" },
        { "acme/queues.json", """{"queues": [{"key": "support", "name": "A"}, {"key": "support", "name": "B", "default": true}]}""", "acme/queues.json: queues[1].key: 'support' is listed twice" },
        { "acme/queues.json", """{"queues": [{"key": "support", "name": "A"}]}""", "acme/queues.json: queues[].default: exactly one queue must be the default" },
        { "acme/sla.json", """{"policies": [{"queue": "nowhere", "priority": "High", "firstResponseMinutes": 5}]}""", "acme/sla.json: policies[0].queue: 'nowhere' is not a queue" },
        { "acme/sla.json", """{"policies": [{"queue": "support", "priority": "Critical"}]}""", "acme/sla.json: policies[0].priority: 'Critical'" },
        { "acme/sla.json", """{"policies": [{"queue": "support", "priority": "High", "firstResponseMinutes": -5}]}""", "acme/sla.json: policies[0].firstResponseMinutes: must be between 1 and 525600" },
        { "acme/sla.json", """{"policies": [{"queue": "support", "priority": "High", "warningPercents": [75, 120]}]}""", "acme/sla.json: policies[0].warningPercents[1]: must be above 0 and below 100" },
        { "acme/sla.json", """{"policies": [{"queue": "support", "priority": "High", "pauseStatuses": ["Open"]}]}""", "acme/sla.json: policies[0].pauseStatuses[0]: must be one of Pending, OnHold" },
        { "acme/sla.json", """{"policies": [{"queue": "support", "priority": "High", "escalations": [{"on": "breach", "action": "moveToQueue", "queue": "nowhere"}]}]}""", "acme/sla.json: policies[0].escalations[0].queue: must be one of the tenant's queues" },
        { "acme/clients.json", """{"clientId": "northwind-integration"}""", "acme/clients.json: clientId: must be 'acme-integration'" },
        { "acme/channels.json", """{"inboundKey": "short"}""", "acme/channels.json: inboundKey: must be at least 24 characters" },
        { "acme/users.json", """{"users": [{"email": "admin@acme.test", "displayName": "A", "role": "ProviderAdmin"}]}""", "acme/users.json: users[0].role: 'ProviderAdmin' is not one of ClientAdmin, ClientViewer" },
        { "acme/plan.json", """{"currency": "euro"}""", "acme/plan.json: currency: 'euro' is not an ISO 4217 code" },
        { "staff.json", """{"staff": [{"email": "admin@prodesk.test", "displayName": "A", "role": "ProviderAdmin", "tenants": ["globex"]}]}""", "staff.json: staff[0].tenants[0]: 'globex' is not a tenant folder" },
        { "staff.json", """{"staff": [{"email": "not-an-email", "displayName": "A", "role": "ProviderAdmin"}]}""", "staff.json: staff[0].email: 'not-an-email' is not an email address" },
    };

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public void A_bad_field_stops_the_load_naming_the_file_and_the_field(string file, string patch, string expected)
    {
        var seed = Repository.CopySeed();
        var path = Path.Combine(seed, file);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(patch)!.AsObject())
        {
            if (key == "calendar" && value is JsonObject calendarPatch)
            {
                foreach (var (ck, cv) in calendarPatch)
                {
                    json["calendar"]![ck] = cv?.DeepClone();
                }

                continue;
            }

            json[key] = value?.DeepClone();
        }

        File.WriteAllText(path, json.ToJsonString());
        var error = Assert.Throws<StartupException>(() => SeedLoader.Load(seed));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_is_reported_with_the_file_and_line()
    {
        var seed = Repository.CopySeed();
        File.WriteAllText(Path.Combine(seed, "merlion", "plan.json"), "{\n  \"name\": \"Broken\",\n  \"currency\": \"SGD\"\n  \"monthlyBaseFee\": 1\n}");
        var error = Assert.Throws<StartupException>(() => SeedLoader.Load(seed));
        Assert.StartsWith("merlion/plan.json: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("(line 4)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var seed = Repository.CopySeed();
        File.Delete(Path.Combine(seed, "northwind", "queues.json"));
        var error = Assert.Throws<StartupException>(() => SeedLoader.Load(seed));
        Assert.Equal("northwind/queues.json: file: is missing", error.Message);
    }

    [Fact]
    public void A_missing_seed_folder_is_named()
    {
        var error = Assert.Throws<StartupException>(() => SeedLoader.Load("/nonexistent/prodesk-seed"));
        Assert.Contains("/nonexistent/prodesk-seed does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_demo_history_is_the_same_on_every_run_and_differs_between_tenants()
    {
        var tenant = Guid.NewGuid();
        var first = DemoHistory.Contacts(tenant, "acme", "fr", 30);
        var second = DemoHistory.Contacts(tenant, "acme", "fr", 30);
        var other = DemoHistory.Contacts(tenant, "northwind", "en_US", 30);

        Assert.Equal(first.Select(c => (c.Id, c.Name, c.Email, c.Phone, c.CreatedAt)), second.Select(c => (c.Id, c.Name, c.Email, c.Phone, c.CreatedAt)));
        Assert.NotEqual(first.Select(c => c.Name), other.Select(c => c.Name));
        Assert.Equal(30, first.Select(c => c.Email).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(first, c => Assert.EndsWith("@acme-customers.test", c.Email, StringComparison.Ordinal));
        Assert.All(first, c => Assert.True(c.CreatedAt < DemoHistory.Anchor));
    }
}
