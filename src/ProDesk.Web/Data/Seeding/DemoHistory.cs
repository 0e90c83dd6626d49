using System.Text;
using Bogus;
using ProDesk.Data.Contacts;

namespace ProDesk.Web.Data.Seeding;

/// <summary>
/// The demo history of a tenant, generated with Bogus from a seed derived from the tenant's slug
/// and dated back from a fixed day, so every fresh start shows exactly the same data. Later
/// features (items, messages) add their generators here, drawing from the same seed.
/// </summary>
public static class DemoHistory
{
    /// <summary>The demo's "today": history is dated before it, never from the clock.</summary>
    public static readonly DateTime Anchor = new(2026, 11, 1, 9, 0, 0, DateTimeKind.Utc);

    /// <summary>The demo contacts; phones as the API stores them, national ones completed with the time zone's country.</summary>
    public static IReadOnlyList<Contact> Contacts(Guid tenantId, string slug, string locale, int count, string? timeZone = null)
    {
        var region = Domain.Contacts.PhoneRegion.OfTimeZone(timeZone);
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var faker = new Faker<Contact>(locale)
            .UseSeed(StableSeed(slug, "contacts"))
            .RuleFor(c => c.Id, f => f.Random.Guid())
            .RuleFor(c => c.TenantId, _ => tenantId)
            .RuleFor(c => c.Name, f => f.Name.FullName())
            .RuleFor(c => c.Company, f => f.Random.Bool(0.6f) ? f.Company.CompanyName() : null)
            .RuleFor(c => c.Phone, f => f.Random.Bool(0.7f) ? Domain.Contacts.PhoneNumber.Normalize(f.Phone.PhoneNumber(), region) : null)
            .RuleFor(c => c.CreatedAt, f => Anchor - TimeSpan.FromMinutes(f.Random.Int(60, 60 * 24 * 365)))
            .RuleFor(c => c.Email, (f, c) =>
            {
                // Unique per tenant (the index demands it) and always on a reserved demo domain.
                var local = Slugify(c.Name);
                var email = $"{local}@{slug}-customers.test";
                for (var n = 2; !used.Add(email); n++)
                {
                    email = $"{local}{n}@{slug}-customers.test";
                }

                return email;
            });
        return faker.Generate(count);
    }

    /// <summary>FNV-1a over the slug and purpose: string.GetHashCode is randomised per process.</summary>
    internal static int StableSeed(string slug, string purpose)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes($"{slug}/{purpose}"))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)(hash & 0x7fffffff);
    }

    private static string Slugify(string name)
    {
        var ascii = new StringBuilder();
        foreach (var ch in name.Normalize(NormalizationForm.FormD))
        {
            if (char.IsAsciiLetterOrDigit(ch))
            {
                ascii.Append(char.ToLowerInvariant(ch));
            }
            else if (ch is ' ' or '-' or '\'' && ascii.Length > 0 && ascii[^1] != '.')
            {
                ascii.Append('.');
            }
        }

        var text = ascii.ToString().Trim('.');
        return text.Length == 0 ? "customer" : text;
    }
}
