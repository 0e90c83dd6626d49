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
/// </summary>
public sealed class UpdateContact(ProDeskDbContext db, Tenancy.ITenantContext tenants)
{
    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record Request(string? Name = null, string? Email = null, string? Phone = null, string? Company = null, int? Version = null);

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

        if (email is not null && await db.Contacts.Where(c => c.Email == email && c.Id != id).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(cancellationToken) is { } byEmail)
        {
            return new Result(Outcome.Taken, Field: "email", OtherContactId: byEmail);
        }

        // Phones are not unique in the database (demo and imported data may repeat them); a new one is checked here.
        if (phone is not null && phone != contact.Phone
            && await db.Contacts.Where(c => (c.Phone == phone || c.Phone == national) && c.Id != id).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(cancellationToken) is { } byPhone)
        {
            return new Result(Outcome.Taken, Field: "phone", OtherContactId: byPhone);
        }

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
            // The unique email index: another contact took the address since the check.
            db.ChangeTracker.Clear();
            var other = email is null ? null
                : await db.Contacts.AsNoTracking().Where(c => c.Email == email && c.Id != id).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(cancellationToken);
            if (other is null)
            {
                throw;
            }

            return new Result(Outcome.Taken, Field: "email", OtherContactId: other);
        }

        return new Result(Outcome.Updated);
    }
}
