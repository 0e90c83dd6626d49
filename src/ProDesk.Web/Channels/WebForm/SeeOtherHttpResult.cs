namespace ProDesk.Web.Channels.WebForm;

/// <summary>
/// 303 See Other: after a form POST the browser fetches the location with GET, and reloading the
/// page it lands on never posts the form again (TypedResults.Redirect has no 303).
/// </summary>
public sealed class SeeOtherHttpResult(string location) : IResult, IStatusCodeHttpResult
{
    public string Location { get; } = location;

    public int? StatusCode => StatusCodes.Status303SeeOther;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
        httpContext.Response.Headers.Location = Location;
        return Task.CompletedTask;
    }
}
