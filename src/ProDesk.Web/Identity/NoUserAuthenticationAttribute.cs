namespace ProDesk.Web.Identity;

/// <summary>
/// An endpoint that a gateway calls with a key of its own (inbound mail, SMS webhooks), never as a user: the
/// authentication middleware is skipped for it. Its pass over OpenIddict's request handlers, which it makes for every
/// request to see whether one is theirs, was a sixtieth of the app's CPU per inbound mail.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class NoUserAuthenticationAttribute : Attribute;
