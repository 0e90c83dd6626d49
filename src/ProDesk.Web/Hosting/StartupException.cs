namespace ProDesk.Web.Hosting;

/// <summary>Configuration or seed data that stops the app at start; the message names the file and field at fault.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
