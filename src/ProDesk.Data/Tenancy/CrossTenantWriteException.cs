namespace ProDesk.Data.Tenancy;

/// <summary>A save tried to write a row of a tenant outside the current scope. Always a bug.</summary>
public sealed class CrossTenantWriteException(string message) : InvalidOperationException(message);
