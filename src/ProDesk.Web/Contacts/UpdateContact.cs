using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Contacts;
using ProDesk.Domain.Channels.Email;
using ProDesk.Domain.Contacts;

namespace ProDesk.Web.Contacts;

/// <summary>
/// Sets a contact's name, email, phone and company. Email and phone are identities: ingestion finds
/// the contact by them, so each belongs to at most one contact of the tenant (409 otherwise; the
/// two should be merged). Emails are kept lowercase and phones normalised, as ingestion keeps them: a national number
/// is completed to E.164 with the tenant's country (<see cref="PhoneRegion"/>), as SMS gateways send it.
/// <c>otherEmails</c> and <c>otherPhones</c> set the contact's further identities (<see cref="ContactIdentity"/>: the
/// person's second address, a number a merge brought in), each belonging to this contact alone; left out, they stay as they are.
/// </summary>
public sealed class UpdateContact(ProDeskDbContext db, Tenancy.ITenantContext tenants, TimeProvider clock)
{
    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record Request(
        string? Name = null, string? Email = null, string? Phone = null, string? Company = null, int? Version = null,
        IReadOnlyList<string?>? OtherEmails = null, IReadOnlyList<string?>? OtherPhones = null);

    /// <summary>The most further emails, and phones, one contact holds.</summary>
    public const int MaxOtherIdentities = 20;

    public enum Outcome
    {
        Updated,
        NotFound,
        Invalid,
        Taken,
        /// <summary>The contact is no longer at the version the caller loaded: nothing was changed.</summary>
        Stale,
    }

    public sealed record Result(Outcome Outcome, Dictionary<string, string[]>? Errors = null, string? Field = null, Guid? OtherContactId = null, Contact? Current = null);

    /// <summary>
    /// A PUT replaces the whole contact, so a form loaded before a colleague's edit would undo it: with
    /// <paramref name="basedOnVersion"/> (the version the caller loaded) such a save is refused as stale. Without one, the
    /// last save wins, as before versions were asked for; a save racing another is then made again on the newer row.
    /// </summary>
    public async Task<Result> HandleAsync(Guid id, Request request, int? basedOnVersion, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryAsync(id, request, basedOnVersion, cancellationToken);
            }
            catch (DbUpdateConcurrencyException) when (basedOnVersion is not null || attempt < 3)
            {
                db.ChangeTracker.Clear();
                if (basedOnVersion is not null)
                {
                    return new Result(Outcome.Stale, Current: await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, cancellationToken));
                }
            }
        }
    }

    private async Task<Result> TryAsync(Guid id, Request request, int? basedOnVersion, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        // As every channel stores a name: one line, no control or bidi characters (a \u202E turned the list around).
        var name = Channels.PlainText.Line(request.Name);
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            errors["name"] = ["is required and at most 200 characters"];
        }

        string? email = null;
        if (!string.IsNullOrWhiteSpace(request.Email))
        {
            email = request.Email.Trim();
            if (ReplyAddress.Normalize(email) is { } reachable)
            {
                email = reachable;
            }
            else
            {
                errors["email"] = ["must be a bare email address we can reply to, such as ada@example.com"];
            }
        }

        var region = PhoneRegion.OfTimeZone(tenants.Current?.TimeZone);
        var phone = PhoneNumber.Normalize(request.Phone, region);
        // A contact saved before numbers were completed may hold the same number in its national spelling.
        var national = PhoneNumber.NationalDigits(phone, region) ?? phone;
        if (!string.IsNullOrWhiteSpace(request.Phone) && phone is null)
        {
            errors["phone"] = [$"must be a phone number: an optional +, then 3 to {PhoneNumber.MaxDigits} digits (spaces, dots, dashes and parentheses are ignored)"];
        }

        var otherEmails = Others(request.OtherEmails, "otherEmails", errors, ReplyAddress.Normalize, "must each be a bare email address we can reply to");
        var otherPhones = Others(request.OtherPhones, "otherPhones", errors, value => PhoneNumber.Normalize(value, region), "must each be a phone number");

        var company = Channels.PlainText.Line(request.Company) is { Length: > 0 } named ? named : null;
        if (company is { Length: > 200 })
        {
            errors["company"] = ["must be at most 200 characters"];
        }

        var contact = await db.Contacts.FirstOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (contact is null)
        {
            return new Result(Outcome.NotFound);
        }

        if (errors.Count > 0)
        {
            return new Result(Outcome.Invalid, errors);
        }

        if (basedOnVersion is { } seen && seen != contact.Version)
        {
            return new Result(Outcome.Stale, Current: contact);
        }

        if (email is not null && await OwnerOfEmailAsync(email, id, cancellationToken) is { } byEmail)
        {
            return new Result(Outcome.Taken, Field: "email", OtherContactId: byEmail);
        }

        // Phones are not unique in the database (demo and imported data may repeat them); a new one is checked here.
        if (phone is not null && phone != contact.Phone && await OwnerOfPhoneAsync(phone, national ?? phone, id, cancellationToken) is { } byPhone)
        {
            return new Result(Outcome.Taken, Field: "phone", OtherContactId: byPhone);
        }

        // Without a list, the further identities stay as they are; one that is now the contact's own is no longer further.
        var identities = await db.ContactIdentities.Where(i => i.ContactId == id).ToListAsync(cancellationToken);
        otherEmails = [.. (otherEmails ?? Values(identities, ContactIdentity.EmailKind)).Where(v => v != email)];
        otherPhones = [.. (otherPhones ?? Values(identities, ContactIdentity.PhoneKind)).Where(v => v != phone)];
        if (await FurtherTakenAsync(otherEmails.Except(Values(identities, ContactIdentity.EmailKind)), otherPhones.Except(Values(identities, ContactIdentity.PhoneKind)), region, id, cancellationToken) is { } further)
        {
            return further;
        }

        Replace(contact, identities, ContactIdentity.EmailKind, otherEmails);
        Replace(contact, identities, ContactIdentity.PhoneKind, otherPhones);

        contact.Name = name!;
        contact.Email = email;
        contact.Phone = phone;
        contact.Company = company;
        contact.Version++;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e is not DbUpdateConcurrencyException)
        {
            // A unique index: another contact took the address (or a further one) since the check.
            db.ChangeTracker.Clear();
            if (email is not null && await OwnerOfEmailAsync(email, id, cancellationToken) is { } other)
            {
                return new Result(Outcome.Taken, Field: "email", OtherContactId: other);
            }

            if (await FurtherTakenAsync(otherEmails, otherPhones, region, id, cancellationToken) is { } raced)
            {
                return raced;
            }

            throw;
        }

        return new Result(Outcome.Updated);
    }

    /// <summary>Another contact that has this address, as its own or as a further one.</summary>
    private async Task<Guid?> OwnerOfEmailAsync(string email, Guid id, CancellationToken cancellationToken) =>
        await db.Contacts.Where(c => c.Email == email && c.Id != id).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(cancellationToken)
        ?? await db.ContactIdentities.Where(i => i.Kind == ContactIdentity.EmailKind && i.Value == email && i.ContactId != id).Select(i => (Guid?)i.ContactId).FirstOrDefaultAsync(cancellationToken);

    /// <summary>Another contact that has this number (or its national spelling), as its own or as a further one.</summary>
    private async Task<Guid?> OwnerOfPhoneAsync(string phone, string national, Guid id, CancellationToken cancellationToken) =>
        await db.Contacts.Where(c => (c.Phone == phone || c.Phone == national) && c.Id != id).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(cancellationToken)
        ?? await db.ContactIdentities.Where(i => i.Kind == ContactIdentity.PhoneKind && (i.Value == phone || i.Value == national) && i.ContactId != id).Select(i => (Guid?)i.ContactId).FirstOrDefaultAsync(cancellationToken);

    /// <summary>The first of these further addresses or numbers another contact has, as the Taken answer naming its list.</summary>
    private async Task<Result?> FurtherTakenAsync(IEnumerable<string> emails, IEnumerable<string> phones, string? region, Guid id, CancellationToken cancellationToken)
    {
        foreach (var other in emails)
        {
            if (await OwnerOfEmailAsync(other, id, cancellationToken) is { } owner)
            {
                return new Result(Outcome.Taken, Field: "otherEmails", OtherContactId: owner);
            }
        }

        foreach (var other in phones)
        {
            if (await OwnerOfPhoneAsync(other, PhoneNumber.NationalDigits(other, region) ?? other, id, cancellationToken) is { } owner)
            {
                return new Result(Outcome.Taken, Field: "otherPhones", OtherContactId: owner);
            }
        }

        return null;
    }

    private static List<string> Values(List<ContactIdentity> identities, string kind) =>
        [.. identities.Where(i => i.Kind == kind).Select(i => i.Value)];

    /// <summary>Makes the contact's further identities of <paramref name="kind"/> exactly <paramref name="wanted"/>.</summary>
    private void Replace(Contact contact, List<ContactIdentity> identities, string kind, List<string> wanted)
    {
        foreach (var gone in identities.Where(i => i.Kind == kind && !wanted.Contains(i.Value)))
        {
            db.ContactIdentities.Remove(gone);
        }

        foreach (var value in wanted.Except(Values(identities, kind)))
        {
            db.ContactIdentities.Add(new ContactIdentity
            {
                Id = Guid.CreateVersion7(), TenantId = contact.TenantId, ContactId = contact.Id, Kind = kind, Value = value, CreatedAt = clock.GetUtcNow().UtcDateTime,
            });
        }
    }

    /// <summary>A list of further identities, each normalised as its kind is stored (null: the list was not sent).</summary>
    private static List<string>? Others(IReadOnlyList<string?>? values, string field, Dictionary<string, string[]> errors, Func<string, string?> normalize, string rule)
    {
        if (values is null)
        {
            return null;
        }

        if (values.Count > MaxOtherIdentities)
        {
            errors[field] = [$"must hold at most {MaxOtherIdentities}"];
            return null;
        }

        var normalized = new List<string>();
        for (var i = 0; i < values.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(values[i]) || normalize(values[i]!.Trim()) is not { } value)
            {
                errors[$"{field}[{i}]"] = [rule];
            }
            else if (!normalized.Contains(value))
            {
                normalized.Add(value);
            }
        }

        return normalized;
    }
}
