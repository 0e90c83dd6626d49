namespace ProDesk.Web.Identity;

/// <summary>
/// The claim types every principal uses, whether it came from the cookie, a personal access token
/// or an OpenIddict access token: the OpenID Connect names, so one check fits all three.
/// </summary>
public static class ProDeskClaims
{
    public const string Subject = "sub";
    public const string UserName = "preferred_username";
    public const string Email = "email";
    public const string Name = "name";
    public const string Role = "role";
    public const string Tenant = Tenancy.TenantAccess.TenantClaim;

    /// <summary>The personal access token a principal came with (its id): what a revocation ends, hub connections included.</summary>
    public const string PersonalAccessToken = "pat_id";
}
