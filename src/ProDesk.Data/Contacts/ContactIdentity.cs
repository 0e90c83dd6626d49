using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Contacts;

/// <summary>
/// A further email address or phone number of a contact, besides its own <see cref="Contact.Email"/> and
/// <see cref="Contact.Phone"/>: one a merge brought in where the contact already had one, or one staff added. Ingestion
/// finds the contact by it as by those, so the person's next mail or text joins them instead of opening a new contact.
/// Each value belongs to at most one contact of the tenant.
/// </summary>
public sealed class ContactIdentity : ITenantOwned
{
    public const string EmailKind = "email";

    public const string PhoneKind = "phone";

    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public Guid ContactId { get; set; }

    /// <summary><see cref="EmailKind"/> or <see cref="PhoneKind"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>Stored as the contact's own are: an email lowercase, a phone in E.164.</summary>
    public required string Value { get; set; }

    public DateTime CreatedAt { get; set; }
}
