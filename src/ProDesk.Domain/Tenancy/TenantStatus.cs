namespace ProDesk.Domain.Tenancy;

public enum TenantStatus
{
    Active = 0,

    /// <summary>Billing ended the service (dunning ran out); data is kept, channels refuse new work.</summary>
    Suspended = 1,
}
