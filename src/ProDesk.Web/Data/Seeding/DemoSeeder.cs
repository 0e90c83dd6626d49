using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using ProDesk.Web.Identity;
using static OpenIddict.Abstractions.OpenIddictConstants;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Data.Identity;
using ProDesk.Data.Queues;
using ProDesk.Data.Sla;
using ProDesk.Data.Tenants;
using ProDesk.Domain.Tenancy;
using ProDesk.Web.Channels;
using ProDesk.Web.Hosting;
using ProDesk.Web.Sla;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Data.Seeding;

/// <summary>
/// Creates what tenants-seed/ describes and is not there yet: tenants (with queues, SLA policies,
/// client users and, with demo history, contacts) and provider staff. Idempotent by slug and
/// email: a second run creates nothing and never rewrites what an admin has since changed.
/// </summary>
public sealed partial class DemoSeeder(
    ProDeskDbContext db,
    UserManager<AppUser> users,
    IOpenIddictApplicationManager applications,
    RoleManager<AppRole> roles,
    ITenantStore store,
    TenantScopes scopes,
    ProDeskPaths paths,
    IHostEnvironment environment,
    TimeProvider clock,
    ILogger<DemoSeeder> logger)
{
    public sealed record Result(int TenantsCreated, int UsersCreated, int ContactsCreated);

    public async Task<Result> SeedAsync(bool demoHistory, CancellationToken cancellationToken = default)
    {
        var seed = SeedLoader.Load(paths.SeedDirectory);
        if (seed.HasDemoSecrets && environment.IsProduction())
        {
            throw new StartupException($"{paths.SeedDirectory} holds demo secrets (files marked \"_demo\"), which are refused in Production");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var role in Roles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                Check(await roles.CreateAsync(new AppRole(role)), $"role {role}");
            }
        }

        int tenantsCreated = 0, usersCreated = 0, contactsCreated = 0;
        foreach (var tenantSeed in seed.Tenants)
        {
            var (created, contacts) = await EnsureTenantAsync(tenantSeed, demoHistory, now, cancellationToken);
            tenantsCreated += created ? 1 : 0;
            contactsCreated += contacts;
        }

        store.Invalidate();
        var tenantIds = await db.Tenants.AsNoTracking().ToDictionaryAsync(t => t.Slug, t => t.Id, cancellationToken);

        foreach (var member in seed.Staff.Staff)
        {
            var all = member.Tenants.Contains("*");
            var served = all ? tenantIds.Values.ToList() : member.Tenants.Select(s => tenantIds[s]).ToList();
            usersCreated += await EnsureUserAsync(member.Email, member.DisplayName, member.Role, null, seed.Staff.DemoPassword, served, now, member.Skills, all) ? 1 : 0;
        }

        foreach (var tenantSeed in seed.Tenants)
        {
            foreach (var user in tenantSeed.Users.Users)
            {
                usersCreated += await EnsureUserAsync(user.Email, user.DisplayName, user.Role, tenantIds[tenantSeed.Tenant.Slug], seed.Staff.DemoPassword, [], now) ? 1 : 0;
            }
        }

        foreach (var tenantSeed in seed.Tenants)
        {
            await EnsureIntegrationClientAsync(tenantSeed, tenantIds[tenantSeed.Tenant.Slug], cancellationToken);
            await EnsureChannelSettingsAsync(tenantSeed, tenantIds[tenantSeed.Tenant.Slug], cancellationToken);
        }

        await EnsureInteractiveClientAsync(cancellationToken);

        var result = new Result(tenantsCreated, usersCreated, contactsCreated);
        LogSeeded(logger, result.TenantsCreated, result.UsersCreated, result.ContactsCreated, paths.SeedDirectory);
        if (seed.Staff.DemoPassword is not null && !environment.IsProduction())
        {
            LogDemoLogins(seed);
        }

        return result;
    }

    /// <summary>
    /// The demo secrets of the seed directory that still work in this database: the demo password of a seeded user, an
    /// integration client's demo secret, a tenant's demo inbound key, widget key or SMS token. Production refuses to
    /// start while any does (CONTRACT.md: demo values are refused in Production); a database first made by a plain
    /// `dotnet run` (Development) would otherwise carry published credentials into Production. Empty when the seed
    /// directory is absent or holds no demo secrets.
    /// </summary>
    public async Task<IReadOnlyList<string>> DemoSecretsInUseAsync(CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(paths.SeedDirectory) || SeedLoader.Load(paths.SeedDirectory) is not { HasDemoSecrets: true } seed)
        {
            return [];
        }

        var working = new List<string>();
        if (seed.Staff.DemoPassword is { } password)
        {
            // Hashing is slow on purpose: one user still accepting it is enough to refuse.
            foreach (var email in seed.Staff.Staff.Select(m => m.Email).Concat(seed.Tenants.SelectMany(t => t.Users.Users.Select(u => u.Email))))
            {
                if (await users.FindByEmailAsync(email) is { } user && await users.CheckPasswordAsync(user, password))
                {
                    working.Add($"the demo password of {email}");
                    break;
                }
            }
        }

        foreach (var tenantSeed in seed.Tenants)
        {
            var client = tenantSeed.Clients;
            if (client.ClientSecret.Length > 0 && await applications.FindByClientIdAsync(client.ClientId, cancellationToken) is { } application
                && await applications.ValidateClientSecretAsync(application, client.ClientSecret, cancellationToken))
            {
                working.Add($"the demo secret of {client.ClientId}");
            }

            if (await store.FindBySlugAsync(tenantSeed.Tenant.Slug, cancellationToken) is not { } tenant)
            {
                continue;
            }

            using (TenantScopes.Enter(scopes.ForTenant(tenant)))
            {
                var channels = tenantSeed.Channels;
                var settings = await db.ChannelSettings.AsNoTracking().FirstOrDefaultAsync(cancellationToken);
                if (settings is not null && (InboundKeys.Matches(channels.InboundKey, settings.InboundKeyHash)
                    || (channels.WidgetKey.Length > 0 && settings.WidgetKey == channels.WidgetKey)
                    || (channels.SmsAuthToken is { Length: > 0 } token && settings.SmsAuthToken == token)))
                {
                    working.Add($"a demo channel key of {tenantSeed.Tenant.Slug}");
                }
            }
        }

        return working;
    }

    private async Task<(bool Created, int Contacts)> EnsureTenantAsync(TenantSeed seed, bool demoHistory, DateTime now, CancellationToken cancellationToken)
    {
        var t = seed.Tenant;
        if (await db.Tenants.AnyAsync(x => x.Slug == t.Slug, cancellationToken))
        {
            return (false, 0);
        }

        var tenant = new Tenant
        {
            Id = Guid.CreateVersion7(),
            Slug = t.Slug,
            Name = t.Name,
            TimeZone = t.TimeZone,
            Status = TenantStatus.Active,
            CalendarJson = System.Text.Json.JsonSerializer.Serialize(t.Calendar, System.Text.Json.JsonSerializerOptions.Web),
            PlanJson = seed.PlanJson,
            FieldsJson = System.Text.Json.JsonSerializer.Serialize(t.Fields, System.Text.Json.JsonSerializerOptions.Web),
            CreatedAt = now,
            Hosts = t.Hosts.Select(h => new TenantHost { Host = h }).ToList(),
        };

        // One transaction per tenant: a crash half-way leaves no half-seeded tenant behind.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Tenants.Add(tenant);
        // Staff serving all tenants ("*") serve this one from its first moment: they had to be added by hand before, and a
        // provider admin found the new client's quarantine and mailboxes 404 (probe round 20).
        var everyTenant = await db.Users.Where(u => u.TenantId == null && u.ServesAllTenants).Select(u => u.Id).ToListAsync(cancellationToken);
        db.StaffTenants.AddRange(everyTenant.Select(id => new StaffTenant { UserId = id, TenantId = tenant.Id }));
        await db.SaveChangesAsync(cancellationToken);

        var info = new TenantInfo(tenant.Id, tenant.Slug, tenant.Name, tenant.TimeZone, tenant.Status, t.Hosts, tenant.CalendarJson, tenant.FieldsJson);
        var contacts = 0;
        using (TenantScopes.Enter(scopes.ForTenant(info)))
        {
            db.Queues.AddRange(seed.Queues.Queues.Select(q => new Queue { Id = Guid.CreateVersion7(), Key = q.Key, Name = q.Name, IsDefault = q.Default, Routing = Enum.Parse<QueueRouting>(q.Routing), RequiredSkills = q.RequiredSkills }));
            db.SlaPolicies.AddRange(seed.Sla.Policies.Select(p => new SlaPolicy
            {
                Id = Guid.CreateVersion7(),
                QueueKey = p.Queue,
                Priority = p.Priority,
                FirstResponseMinutes = p.FirstResponseMinutes,
                NextResponseMinutes = p.NextResponseMinutes,
                ResolutionMinutes = p.ResolutionMinutes,
                WarningPercents = p.WarningPercents ?? [.. SlaPolicyRules.DefaultWarningPercents],
                PauseStatuses = p.PauseStatuses ?? [.. SlaPolicyRules.DefaultPauseStatuses],
                EscalationsJson = SlaEscalation.Serialize(p.Escalations ?? []),
                CreatedBy = "seed",
                CreatedAt = now,
            }));

            if (demoHistory)
            {
                var generated = DemoHistory.Contacts(tenant.Id, t.Slug, t.Locale, t.DemoHistory.Contacts, t.TimeZone);
                db.Contacts.AddRange(generated);
                contacts = generated.Count;
            }

            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return (true, contacts);
    }

    /// <summary>Channel keys from channels.json; separate from the tenant so databases seeded before channels existed get them too.</summary>
    private async Task EnsureChannelSettingsAsync(TenantSeed seed, Guid tenantId, CancellationToken cancellationToken)
    {
        var tenant = await store.FindByIdAsync(tenantId, cancellationToken) ?? throw new InvalidOperationException($"tenant {seed.Tenant.Slug} vanished");
        using (TenantScopes.Enter(scopes.ForTenant(tenant)))
        {
            if (await db.ChannelSettings.AnyAsync(cancellationToken))
            {
                return;
            }

            var channels = seed.Channels;
            db.ChannelSettings.Add(new ChannelSettings
            {
                TenantId = tenantId,
                InboundKeyHash = InboundKeys.Hash(channels.InboundKey),
                WidgetKey = channels.WidgetKey,
                SupportAddress = channels.SupportAddress,
                ReplyTokenKey = RandomNumberGenerator.GetBytes(32),
                SmsAuthToken = channels.SmsAuthToken,
                SmsNumber = channels.SmsNumber,
                AcknowledgmentText = channels.AcknowledgmentText,
            });
            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }
    }

    private async Task<bool> EnsureUserAsync(
        string email, string displayName, string role, Guid? tenantId, string? password, IReadOnlyList<Guid> served, DateTime now, List<string>? skills = null, bool allTenants = false)
    {
        if (await users.FindByEmailAsync(email) is not null)
        {
            return false;
        }

        var user = new AppUser
        {
            Id = Guid.CreateVersion7(),
            UserName = email,
            Email = email,
            EmailConfirmed = true,
            DisplayName = displayName,
            TenantId = tenantId,
            CreatedAt = now,
            Skills = skills ?? [],
            ServesAllTenants = allTenants,
        };

        // Without a demo password the account starts with none; the admin sends an invitation.
        Check(password is null ? await users.CreateAsync(user) : await users.CreateAsync(user, password), email);
        Check(await users.AddToRoleAsync(user, role), email);
        db.StaffTenants.AddRange(served.Select(id => new StaffTenant { UserId = user.Id, TenantId = id }));
        await db.SaveChangesAsync();
        return true;
    }

    /// <summary>The tenant's integration client (client_credentials), acting for that tenant only.</summary>
    private async Task EnsureIntegrationClientAsync(TenantSeed seed, Guid tenantId, CancellationToken cancellationToken)
    {
        if (await applications.FindByClientIdAsync(seed.Clients.ClientId, cancellationToken) is not null)
        {
            return;
        }

        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = seed.Clients.ClientId,
            ClientSecret = seed.Clients.ClientSecret,
            ClientType = ClientTypes.Confidential,
            DisplayName = $"{seed.Tenant.Name} integration",
            Permissions =
            {
                Permissions.Endpoints.Token,
                Permissions.GrantTypes.ClientCredentials,
                Permissions.Prefixes.Scope + IdentityExtensions.ApiScope,
            },
        };
        descriptor.Properties[ConnectEndpoints.TenantProperty] = JsonSerializer.SerializeToElement(tenantId.ToString());
        await applications.CreateAsync(descriptor, cancellationToken);
    }

    /// <summary>
    /// The first-party public client for people (authorization code with PKCE, refresh tokens): the
    /// command line and scripts a user runs, redirecting to a loopback port.
    /// </summary>
    private async Task EnsureInteractiveClientAsync(CancellationToken cancellationToken)
    {
        if (await applications.FindByClientIdAsync(InteractiveClientId, cancellationToken) is not null)
        {
            return;
        }

        await applications.CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = InteractiveClientId,
            ClientType = ClientTypes.Public,
            ConsentType = ConsentTypes.Implicit,
            DisplayName = "ProDesk command line",
            RedirectUris = { new Uri(InteractiveRedirectUri) },
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.GrantTypes.RefreshToken,
                Permissions.ResponseTypes.Code,
                Permissions.Prefixes.Scope + IdentityExtensions.ApiScope,
                Permissions.Scopes.Email,
                Permissions.Scopes.Profile,
                Permissions.Scopes.Roles,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        }, cancellationToken);
    }

    public const string InteractiveClientId = "prodesk-cli";
    public const string InteractiveRedirectUri = "http://127.0.0.1:8765/callback";

    private void LogDemoLogins(SeedSet seed)
    {
        var staff = seed.Staff.Staff.Select(s => $"{s.Email} ({s.Role}: {(s.Tenants.Contains("*") ? "all tenants" : string.Join(", ", s.Tenants))})");
        var clients = seed.Tenants.SelectMany(t => t.Users.Users.Select(u => $"{u.Email} ({u.Role})"));
        LogLogins(logger, seed.Staff.DemoPassword!, string.Join("; ", staff.Concat(clients)));
    }

    private static void Check(IdentityResult result, string what)
    {
        if (!result.Succeeded)
        {
            throw new StartupException($"seeding {what} failed: {string.Join("; ", result.Errors.Select(e => e.Description))}");
        }
    }

    [LoggerMessage(LogLevel.Information, "Seed from {SeedDirectory}: {Tenants} tenant(s), {Users} user(s), {Contacts} contact(s) created")]
    private static partial void LogSeeded(ILogger logger, int tenants, int users, int contacts, string seedDirectory);

    [LoggerMessage(LogLevel.Information, "Demo logins (Development only), password {Password}: {Logins}")]
    private static partial void LogLogins(ILogger logger, string password, string logins);
}
