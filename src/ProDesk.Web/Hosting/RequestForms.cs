namespace ProDesk.Web.Hosting;

/// <summary>What reading a request's form throws when the client sent a broken one.</summary>
public static class RequestForms
{
    /// <summary>
    /// True for a malformed form or multipart body (bad boundary, invalid characters, a body that ends
    /// mid-part) rather than a fault of ours, so the caller answers 400. A request the client aborted is
    /// not one: its cancellation goes on up.
    /// </summary>
    public static bool IsMalformed(Exception exception, HttpContext context) =>
        !context.RequestAborted.IsCancellationRequested
        && exception is InvalidDataException or BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } or IOException;
}
