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
        !context.RequestAborted.IsCancellationRequested && !IsTooLarge(exception)
        && exception is InvalidDataException or BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } or IOException;

    /// <summary>
    /// True when the server's body limit cut the body off (Kestrel's 413, an <see cref="IOException"/> too, so it
    /// must be told apart from a malformed body: the client needs "too large", not "malformed").
    /// </summary>
    public static bool IsTooLarge(Exception exception) =>
        exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge };
}
