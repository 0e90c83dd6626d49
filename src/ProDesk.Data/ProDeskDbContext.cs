using System.Linq.Expressions;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using ProDesk.Data.Audit;
using ProDesk.Data.CannedReplies;
using ProDesk.Data.Channels;
using ProDesk.Data.Contacts;
using ProDesk.Data.Csat;
using ProDesk.Data.Identity;
using ProDesk.Data.Queues;
using ProDesk.Data.Sla;
using ProDesk.Data.Tenancy;
using ProDesk.Data.Tenants;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.Tenancy;

namespace ProDesk.Data;

public class ProDeskDbContext(DbContextOptions<ProDeskDbContext> options)
    : IdentityDbContext<AppUser, AppRole, Guid>(options), IDataProtectionKeyContext
{
    // From the options (TenantScopeExtension), so the context can be pooled; none there means no tenant.
    private readonly ICurrentTenantIds tenantIds = options.FindExtension<TenantScopeExtension>()?.TenantIds ?? NoTenants.Instance;

    /// <summary>The name of the query filter on every tenant-owned entity, for the rare audited <c>IgnoreQueryFilters([...])</c>.</summary>
    public const string TenantFilter = "Tenant";

    /// <summary>The tenants this context may read and write; evaluated per query, so a scope change is seen at once.</summary>
    public IReadOnlyList<Guid> TenantScopeIds => tenantIds.TenantIds;

    /// <summary>True inside <see cref="OnTablesWithoutRowLevelSecurity"/>.</summary>
    public bool ReadsOnlyTablesWithoutRowLevelSecurity { get; private set; }

    /// <summary>
    /// For the commands of the every-request lookups that touch only tables without row-level security
    /// (tokens, users): the session's tenant setting cannot matter to them, so the RLS interceptor leaves it
    /// as it is instead of spending a round trip to set it, and the next tenant-scoped command on that
    /// session often finds it already right (decision 43). Never wrap a tenant-owned table's query in this.
    /// </summary>
    public IDisposable OnTablesWithoutRowLevelSecurity()
    {
        ReadsOnlyTablesWithoutRowLevelSecurity = true;
        return new EndOfTablesWithoutRowLevelSecurity(this);
    }

    private sealed class EndOfTablesWithoutRowLevelSecurity(ProDeskDbContext db) : IDisposable
    {
        public void Dispose() => db.ReadsOnlyTablesWithoutRowLevelSecurity = false;
    }

    // A pooled context goes back to the pool with its connection as it is. EF's asynchronous reset closes the
    // connection but keeps the count of explicit opens, so one opened by hand and never closed made the next
    // lease keep its connection open for that lease's whole life: a hub connection's request, for hours, ran
    // a node's pool dry in benchmark E (decision 38). Whoever opens closes; this catches whoever forgot.
    public override void Dispose()
    {
        ReadsOnlyTablesWithoutRowLevelSecurity = false;
        if (ConnectionLeftOpen())
        {
            Database.CurrentTransaction?.Dispose();
            for (var i = 0; i < MaxOpens && ConnectionLeftOpen(); i++)
            {
                Database.CloseConnection();
            }
        }

        base.Dispose();
        GC.SuppressFinalize(this);
    }

    public override async ValueTask DisposeAsync()
    {
        ReadsOnlyTablesWithoutRowLevelSecurity = false;
        if (ConnectionLeftOpen())
        {
            if (Database.CurrentTransaction is { } transaction)
            {
                await transaction.DisposeAsync();
            }

            for (var i = 0; i < MaxOpens && ConnectionLeftOpen(); i++)
            {
                await Database.CloseConnectionAsync();
            }
        }

        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    // Each close takes back one open; nobody nests more than this. A connection the caller opened itself stays open.
    private const int MaxOpens = 16;

    private bool ConnectionLeftOpen()
    {
        try
        {
            return Database.GetDbConnection().State != System.Data.ConnectionState.Closed;
        }
        catch (ObjectDisposedException)
        {
            // Disposed already (a second Dispose).
            return false;
        }
    }

    public DbSet<Tenant> Tenants => Set<Tenant>();

    public DbSet<TenantHost> TenantHosts => Set<TenantHost>();

    public DbSet<StaffTenant> StaffTenants => Set<StaffTenant>();

    public DbSet<Queue> Queues => Set<Queue>();

    public DbSet<SlaPolicy> SlaPolicies => Set<SlaPolicy>();

    public DbSet<SlaClockEntry> SlaClockEntries => Set<SlaClockEntry>();

    public DbSet<SlaTimer> SlaTimers => Set<SlaTimer>();

    public DbSet<Contact> Contacts => Set<Contact>();

    public DbSet<ContactIdentity> ContactIdentities => Set<ContactIdentity>();

    public DbSet<WorkItem> WorkItems => Set<WorkItem>();

    public DbSet<WorkItemMessage> WorkItemMessages => Set<WorkItemMessage>();

    public DbSet<WorkItemChange> WorkItemChanges => Set<WorkItemChange>();

    public DbSet<OutboxEvent> OutboxEvents => Set<OutboxEvent>();

    public DbSet<WorkItemAttachment> WorkItemAttachments => Set<WorkItemAttachment>();

    public DbSet<PersonalAccessToken> PersonalAccessTokens => Set<PersonalAccessToken>();

    public DbSet<UserSession> UserSessions => Set<UserSession>();

    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    /// <summary>The ASP.NET Core data-protection key ring, shared by every node (cookies, antiforgery).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<ServerKey> ServerKeys => Set<ServerKey>();

    public DbSet<ChannelSettings> ChannelSettings => Set<ChannelSettings>();

    public DbSet<Mailbox> Mailboxes => Set<Mailbox>();

    public DbSet<InboundMail> InboundMails => Set<InboundMail>();

    public DbSet<OutboundMessage> OutboundMessages => Set<OutboundMessage>();

    public DbSet<EmailSuppression> EmailSuppressions => Set<EmailSuppression>();

    public DbSet<SmsKeywordText> SmsKeywordTexts => Set<SmsKeywordText>();

    public DbSet<CannedReply> CannedReplies => Set<CannedReply>();

    public DbSet<CsatRating> CsatRatings => Set<CsatRating>();

    /// <summary>The tables that hold tenant-owned rows: each gets RLS on PostgreSQL.</summary>
    public static IEnumerable<string> TenantOwnedTables(Microsoft.EntityFrameworkCore.Metadata.IModel model) =>
        model.GetEntityTypes()
            .Where(e => typeof(ITenantOwned).IsAssignableFrom(e.ClrType))
            .Select(e => e.GetTableName()!)
            .Distinct()
            .Order(StringComparer.Ordinal);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every DateTime is UTC; SQLite forgets the kind, so it is put back on read.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.UseOpenIddict<Guid>();

        builder.Entity<PersonalAccessToken>(e =>
        {
            e.HasIndex(t => t.Hash).IsUnique();
            e.HasIndex(t => t.UserId);
            e.Property(t => t.Name).HasMaxLength(100);
            e.Property(t => t.Prefix).HasMaxLength(16);
            e.Property(t => t.Hash).HasMaxLength(32);
            e.HasOne<AppUser>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<UserSession>(e =>
        {
            e.HasKey(s => s.KeyHash);
            e.Property(s => s.KeyHash).HasMaxLength(32);
            e.HasIndex(s => s.Id).IsUnique();
            e.HasIndex(s => s.UserId);
            e.HasIndex(s => s.ExpiresAt);
            e.HasOne<AppUser>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<AuditEvent>(e =>
        {
            e.HasIndex(a => new { a.TenantId, a.At });
            e.HasIndex(a => a.At);
            e.Property(a => a.Action).HasMaxLength(64);
            e.Property(a => a.ActorName).HasMaxLength(320);
            e.Property(a => a.Target).HasMaxLength(400);
            e.Property(a => a.Ip).HasMaxLength(64);
        });

        builder.Entity<ServerKey>(e =>
        {
            e.HasKey(k => k.Purpose);
            e.Property(k => k.Purpose).HasMaxLength(32);
        });

        builder.Entity<AppUser>(e =>
        {
            e.Property(u => u.DisplayName).HasMaxLength(200);
            e.HasIndex(u => u.TenantId);
            e.HasOne<Tenant>().WithMany().HasForeignKey(u => u.TenantId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<Tenant>(e =>
        {
            e.HasIndex(t => t.Slug).IsUnique();
            e.Property(t => t.Slug).HasMaxLength(TenantSlug.MaxLength);
            e.Property(t => t.Name).HasMaxLength(200);
            e.Property(t => t.TimeZone).HasMaxLength(64);
            e.HasMany(t => t.Hosts).WithOne().HasForeignKey(h => h.TenantId);
        });

        builder.Entity<TenantHost>(e =>
        {
            e.HasKey(h => h.Host);
            e.Property(h => h.Host).HasMaxLength(253);
            e.HasIndex(h => h.TenantId);
        });

        builder.Entity<StaffTenant>(e =>
        {
            e.HasKey(s => new { s.UserId, s.TenantId });
            e.HasOne<AppUser>().WithMany().HasForeignKey(s => s.UserId);
            e.HasOne<Tenant>().WithMany().HasForeignKey(s => s.TenantId);
        });

        // Tenant-owned: every unique index starts with TenantId.
        builder.Entity<Queue>(e =>
        {
            e.HasIndex(q => new { q.TenantId, q.Key }).IsUnique();
            // Work items point at their queue by (TenantId, Id): see WorkItem below.
            e.HasAlternateKey(q => new { q.TenantId, q.Id });
            e.Property(q => q.Key).HasMaxLength(64);
            e.Property(q => q.Routing).HasConversion<string>().HasMaxLength(16);
        });

        builder.Entity<SlaPolicy>(e =>
        {
            e.HasIndex(p => new { p.TenantId, p.QueueKey, p.Priority, p.Version }).IsUnique();
            e.Property(p => p.QueueKey).HasMaxLength(64);
            e.Property(p => p.Priority).HasMaxLength(16);
            e.Property(p => p.CreatedBy).HasMaxLength(320);
        });

        builder.Entity<SlaClockEntry>(e =>
        {
            e.Property(c => c.Target).HasConversion<string>().HasMaxLength(16);
            e.Property(c => c.Kind).HasConversion<string>().HasMaxLength(16);
            e.Property(c => c.Reason).HasMaxLength(200);
            e.HasIndex(c => new { c.TenantId, c.WorkItemId, c.Id });
            BelongsToWorkItem(e, c => new { c.TenantId, c.WorkItemId });
        });

        builder.Entity<SlaTimer>(e =>
        {
            e.Property(t => t.Target).HasConversion<string>().HasMaxLength(16);
            // A clock change removes the timers it read as armed; if the sweeper fired one meanwhile, the change
            // fails as stale (409) instead of silently re-arming a timer that already fired.
            e.Property(t => t.FiredAt).IsConcurrencyToken();
            e.HasIndex(t => new { t.TenantId, t.WorkItemId, t.Target });
            // The sweeper reads armed timers in firing order; fired ones leave the index.
            e.HasIndex(t => t.FireAt).HasFilter("\"FiredAt\" IS NULL").HasDatabaseName("IX_SlaTimers_Armed");
            BelongsToWorkItem(e, t => new { t.TenantId, t.WorkItemId });
        });

        builder.Entity<Contact>(e =>
        {
            e.HasIndex(c => new { c.TenantId, c.Email }).IsUnique();
            e.HasIndex(c => new { c.TenantId, c.Phone });
            e.Property(c => c.Name).HasMaxLength(200);
            e.Property(c => c.Email).HasMaxLength(320);
            e.Property(c => c.Phone).HasMaxLength(32);
            // Two agents saving one contact from forms loaded before each other's edit: the second is told (probe round 19).
            e.Property(c => c.Version).IsConcurrencyToken();
        });

        builder.Entity<ContactIdentity>(e =>
        {
            // One person per address or number in a tenant, across contacts' own columns and these rows (checked on write).
            e.HasIndex(i => new { i.TenantId, i.Kind, i.Value }).IsUnique();
            e.HasIndex(i => i.ContactId);
            e.Property(i => i.Kind).HasMaxLength(8);
            e.Property(i => i.Value).HasMaxLength(320);
            e.HasOne<Contact>().WithMany().HasForeignKey(i => i.ContactId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<WorkItem>(e =>
        {
            e.Property(w => w.Kind).HasConversion<string>().HasMaxLength(16);
            e.Property(w => w.Status).HasConversion<string>().HasMaxLength(16);
            e.Property(w => w.Priority).HasConversion<int>();
            e.Property(w => w.Subject).HasMaxLength(400);
            e.Property(w => w.Channel).HasMaxLength(16);
            e.Property(w => w.ExternalId).HasMaxLength(200);
            e.Property(w => w.Version).IsConcurrencyToken();
            // Idempotency of ingestion: one item per external id and channel in a tenant.
            e.HasIndex(w => new { w.TenantId, w.Channel, w.ExternalId }).IsUnique().HasFilter("\"ExternalId\" IS NOT NULL");
            // The newest-first list and the queue.
            e.HasIndex(w => new { w.TenantId, w.CreatedAt, w.Id });
            e.HasIndex(w => new { w.TenantId, w.Status, w.AssigneeId, w.Priority });
            // Claim-next reads claimable items in claim order (priority, then due time, then age):
            // without this index every claim sorted every open row (measured: 24 ms of CPU per claim
            // at 100,000 items). Ascending DueAt puts items without a running clock last on PostgreSQL.
            e.HasIndex(w => new { w.Priority, w.DueAt, w.CreatedAt, w.Id })
                .IsDescending(true, false, false, false)
                .HasFilter("\"Status\" = 'Open' AND \"AssigneeId\" IS NULL")
                .HasDatabaseName("IX_WorkItems_Claimable");
            // An item's queue is one of its own tenant's: the key (TenantId, QueueId) proves the queue and, through it,
            // the tenant in one check, so the item does not also reference "Tenants" (TenantReachedOtherwise).
            e.HasOne<Queue>().WithMany().HasForeignKey(w => new { w.TenantId, w.QueueId }).HasPrincipalKey(q => new { q.TenantId, q.Id })
                .OnDelete(DeleteBehavior.Restrict);
            // A contact with items cannot vanish: merging moves them first, and an item that arrives for
            // the merged contact meanwhile makes the merge fail (and be tried again) instead of dangling.
            e.HasOne<Contact>().WithMany().HasForeignKey(w => w.ContactId).OnDelete(DeleteBehavior.Restrict);
            // What belongs to an item points at it by (TenantId, Id), so it cannot sit in another tenant than its item.
            e.HasAlternateKey(w => new { w.TenantId, w.Id });
            // A follow-up names an earlier item of its own tenant by (TenantId, Id), as the item's rows do, so no link can
            // cross tenants. Indexed only where set: most items follow nothing, and their insert maintains no entry.
            e.HasIndex(w => new { w.TenantId, w.FollowUpOfId }).HasFilter("\"FollowUpOfId\" IS NOT NULL");
            e.HasOne<WorkItem>().WithMany().HasForeignKey(w => new { w.TenantId, w.FollowUpOfId }).HasPrincipalKey(w => new { w.TenantId, w.Id })
                .OnDelete(DeleteBehavior.Restrict);
            e.HasMany(w => w.Messages).WithOne().HasForeignKey(m => new { m.TenantId, m.WorkItemId }).HasPrincipalKey(w => new { w.TenantId, w.Id })
                .OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<WorkItemMessage>(e =>
        {
            e.Property(m => m.Kind).HasConversion<string>().HasMaxLength(16);
            e.Property(m => m.AuthorName).HasMaxLength(320);
            e.HasIndex(m => new { m.TenantId, m.WorkItemId, m.CreatedAt });
            e.Property(m => m.FromAddress).HasMaxLength(320);
            e.Property(m => m.SentBy).HasMaxLength(320);
            e.Property(m => m.InternetMessageId).HasMaxLength(998);
            // At most MailCopies.Max addresses of at most 320 characters, space-separated.
            e.Property(m => m.Cc).HasMaxLength(6500);
            // Threading: a reply's In-Reply-To/References find the message they answer, in the tenant only.
            e.HasIndex(m => new { m.TenantId, m.InternetMessageId }).HasFilter("\"InternetMessageId\" IS NOT NULL");
            e.Property(m => m.ExternalId).HasMaxLength(1100);
            // Idempotency of ingestion, for every channel and for follow-ups as well as first messages.
            e.HasIndex(m => new { m.TenantId, m.ExternalId }).IsUnique().HasFilter("\"ExternalId\" IS NOT NULL");
        });

        builder.Entity<ChannelSettings>(e =>
        {
            e.HasKey(c => c.TenantId);
            e.Property(c => c.InboundKeyHash).HasMaxLength(32);
            e.Property(c => c.WidgetKey).HasMaxLength(128);
            e.Property(c => c.SupportAddress).HasMaxLength(320);
            e.Property(c => c.ReplyTokenKey).HasMaxLength(64);
            e.Property(c => c.SmsAuthToken).HasMaxLength(128);
            e.Property(c => c.SmsNumber).HasMaxLength(32);
            e.Property(c => c.AcknowledgmentText).HasMaxLength(Channels.ChannelSettings.MaxAcknowledgmentLength);
        });

        builder.Entity<Mailbox>(e =>
        {
            e.Property(m => m.Key).HasMaxLength(64);
            e.Property(m => m.Host).HasMaxLength(255);
            e.Property(m => m.UserName).HasMaxLength(320);
            e.Property(m => m.Folder).HasMaxLength(255);
            e.Property(m => m.LastError).HasMaxLength(1000);
            e.HasIndex(m => new { m.TenantId, m.Key }).IsUnique();
        });

        builder.Entity<InboundMail>(e =>
        {
            e.Property(m => m.Source).HasMaxLength(64);
            e.Property(m => m.DedupeKey).HasMaxLength(998);
            e.Property(m => m.RawSha256).HasMaxLength(64);
            e.Property(m => m.State).HasConversion<string>().HasMaxLength(16);
            e.Property(m => m.Reason).HasMaxLength(1000);
            e.Property(m => m.Subject).HasMaxLength(400);
            e.Property(m => m.FromAddress).HasMaxLength(320);
            // Idempotency of mail: one row per (tenant, mailbox or route, Message-ID or raw hash).
            e.HasIndex(m => new { m.TenantId, m.Source, m.DedupeKey }).IsUnique();
            e.HasIndex(m => new { m.TenantId, m.State, m.ReceivedAt });
            // The raw-mail retention job's walk, oldest first, over the mail whose bytes are still kept.
            e.HasIndex(m => m.ReceivedAt).HasFilter("\"RawRemovedAt\" IS NULL").HasDatabaseName("IX_InboundMails_RawKept");
        });

        builder.Entity<OutboundMessage>(e =>
        {
            e.Property(o => o.Channel).HasMaxLength(16);
            e.Property(o => o.To).HasMaxLength(320);
            e.Property(o => o.ToName).HasMaxLength(320);
            e.Property(o => o.Cc).HasMaxLength(6500);
            e.Property(o => o.Subject).HasMaxLength(400);
            e.Property(o => o.InternetMessageId).HasMaxLength(998);
            e.Property(o => o.InReplyTo).HasMaxLength(998);
            e.Property(o => o.State).HasConversion<string>().HasMaxLength(16);
            e.Property(o => o.LastError).HasMaxLength(1000);
            e.Property(o => o.ProviderStatus).HasMaxLength(32);
            e.HasIndex(o => new { o.TenantId, o.WorkItemId, o.CreatedAt });
            // The loop breaker counts a recipient's recent automatic mail on every inbound mail.
            e.HasIndex(o => new { o.TenantId, o.To, o.CreatedAt }).HasFilter("\"Automatic\"");
            // The dispatcher reads what is due, across tenants, in order.
            e.HasIndex(o => o.NextAttemptAt).HasFilter("\"State\" = 'Pending'").HasDatabaseName("IX_OutboundMessages_Due");
            BelongsToWorkItem(e, o => new { o.TenantId, o.WorkItemId });
        });

        builder.Entity<EmailSuppression>(e =>
        {
            e.HasKey(s => new { s.TenantId, s.Address });
            e.Property(s => s.Address).HasMaxLength(320);
            e.Property(s => s.Reason).HasMaxLength(400);
        });

        builder.Entity<SmsKeywordText>(e =>
        {
            e.Property(k => k.MessageSid).HasMaxLength(64);
            e.Property(k => k.Number).HasMaxLength(32);
            e.Property(k => k.Keyword).HasMaxLength(16);
            e.Property(k => k.Kind).HasConversion<string>().HasMaxLength(16);
            e.HasIndex(k => new { k.TenantId, k.MessageSid }).IsUnique();
            // A reply to a number asks for its latest opt-out or opt-in.
            e.HasIndex(k => new { k.TenantId, k.Number, k.ReceivedAt });
        });

        builder.Entity<CannedReply>(e =>
        {
            e.Property(c => c.Title).HasMaxLength(200);
            e.Property(c => c.Shortcut).HasMaxLength(32);
            e.Property(c => c.UpdatedBy).HasMaxLength(320);
            e.HasIndex(c => new { c.TenantId, c.Shortcut }).IsUnique().HasFilter("\"Shortcut\" IS NOT NULL");
            e.HasIndex(c => new { c.TenantId, c.Title });
        });

        builder.Entity<CsatRating>(e =>
        {
            e.Property(c => c.Comment).HasMaxLength(2000);
            // One rating per item and solve: a later click changes it.
            e.HasIndex(c => new { c.TenantId, c.WorkItemId, c.Solve }).IsUnique();
            // Reports read a tenant's ratings by time.
            e.HasIndex(c => new { c.TenantId, c.RatedAt });
            BelongsToWorkItem(e, c => new { c.TenantId, c.WorkItemId });
        });

        builder.Entity<WorkItemChange>(e =>
        {
            e.Property(c => c.Field).HasMaxLength(32);
            e.Property(c => c.From).HasMaxLength(400);
            e.Property(c => c.To).HasMaxLength(400);
            e.Property(c => c.ActorName).HasMaxLength(320);
            e.HasIndex(c => new { c.TenantId, c.WorkItemId, c.At });
            BelongsToWorkItem(e, c => new { c.TenantId, c.WorkItemId });
        });

        builder.Entity<WorkItemAttachment>(e =>
        {
            e.Property(a => a.FileName).HasMaxLength(255);
            e.Property(a => a.ContentType).HasMaxLength(128);
            e.Property(a => a.Sha256).HasMaxLength(32);
            e.HasIndex(a => new { a.TenantId, a.WorkItemId });
            BelongsToWorkItem(e, a => new { a.TenantId, a.WorkItemId });
        });

        builder.Entity<OutboxEvent>(e =>
        {
            e.Property(o => o.Type).HasMaxLength(64);
            e.HasIndex(o => new { o.TenantId, o.Id });
            // The relay reads what is not yet published, oldest first.
            e.HasIndex(o => o.Id).HasFilter("\"PublishedAt\" IS NULL").HasDatabaseName("IX_OutboxEvents_Unpublished");
        });

        foreach (var entityType in builder.Model.GetEntityTypes().Where(e => typeof(ITenantOwned).IsAssignableFrom(e.ClrType)))
        {
            ConfigureTenantOwned(builder, entityType.ClrType);
        }
    }

    /// <summary>
    /// Rows of a work item reach their tenant through it, a work item through its queue, and outbox events and the
    /// inbound mail ledger are messages in flight and their receipts: none repeats the foreign-key check on "Tenants".
    /// That table has a handful of rows, so the check's KEY SHARE lock on one of them, taken by every insert of every
    /// concurrent ingestion, turned into a multixact each time (ARCHITECTURE.md decisions 34 and 53).
    /// </summary>
    private static readonly HashSet<Type> TenantReachedOtherwise =
    [
        typeof(WorkItem), typeof(WorkItemMessage), typeof(WorkItemChange), typeof(WorkItemAttachment), typeof(SlaClockEntry), typeof(SlaTimer),
        typeof(OutboundMessage), typeof(CsatRating), typeof(OutboxEvent), typeof(InboundMail),
    ];

    /// <summary>A row of one work item: its key to the item is (TenantId, WorkItemId), which proves the item and its tenant in one check.</summary>
    private static void BelongsToWorkItem<TRow>(EntityTypeBuilder<TRow> row, Expression<Func<TRow, object?>> key)
        where TRow : class =>
        row.HasOne<WorkItem>().WithMany().HasForeignKey(key).HasPrincipalKey(w => new { w.TenantId, w.Id }).OnDelete(DeleteBehavior.Cascade);

    private void ConfigureTenantOwned(ModelBuilder builder, Type clrType)
    {
        // e => TenantScopeIds.Contains(e.TenantId), with TenantScopeIds read from this context per query.
        var entity = Expression.Parameter(clrType, "e");
        var filter = Expression.Lambda(
            Expression.Call(
                typeof(Enumerable), nameof(Enumerable.Contains), [typeof(Guid)],
                Expression.Property(Expression.Constant(this), nameof(TenantScopeIds)),
                Expression.Property(entity, nameof(ITenantOwned.TenantId))),
            entity);

        var entityBuilder = builder.Entity(clrType);
        entityBuilder.HasQueryFilter(TenantFilter, filter);
        if (!TenantReachedOtherwise.Contains(clrType))
        {
            entityBuilder.HasOne(typeof(Tenant)).WithMany().HasForeignKey(nameof(ITenantOwned.TenantId)).OnDelete(DeleteBehavior.Restrict);
        }
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
