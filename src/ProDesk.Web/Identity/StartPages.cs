using Microsoft.AspNetCore.Identity;
using ProDesk.Data.Identity;

namespace ProDesk.Web.Identity;

/// <summary>Where each role lands after signing in.</summary>
public static class StartPages
{
    public const string Admin = "/admin";
    public const string Supervisor = "/supervisor";
    public const string Agent = "/agent";
    public const string Portal = "/portal";

    public static async Task<string> ForAsync(UserManager<AppUser> users, AppUser user)
    {
        var roles = await users.GetRolesAsync(user);
        return roles.Contains(Roles.ProviderAdmin) ? Admin
            : roles.Contains(Roles.Supervisor) ? Supervisor
            : roles.Contains(Roles.Agent) ? Agent
            : Portal;
    }
}
