using System.Globalization;
using Microsoft.AspNetCore.Razor.TagHelpers;

namespace ProDesk.Web.Pages;

/// <summary>
/// <c>&lt;time utc="@when"&gt;&lt;/time&gt;</c>: a moment as the server knows it (UTC), marked up for js/local-time.js, which
/// shows it in the reader's own time zone. An agent in Berlin or Singapore reads their local time; without script the
/// text says UTC, so it is never mistaken for local.
/// </summary>
[HtmlTargetElement("time", Attributes = "utc")]
public sealed class UtcTimeTagHelper : TagHelper
{
    /// <summary>Taken as UTC whatever its Kind says, as every stored time is (the database hands them back unspecified); null writes nothing.</summary>
    public DateTime? Utc { get; set; }

    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        if (Utc is not { } when)
        {
            output.SuppressOutput();
            return;
        }

        var utc = when.Kind == DateTimeKind.Local ? when.ToUniversalTime() : DateTime.SpecifyKind(when, DateTimeKind.Utc);
        output.Attributes.SetAttribute("datetime", utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        output.Attributes.SetAttribute("data-local-time", "");
        output.Content.SetContent(Text(utc));
    }

    /// <summary>The text shown until (or without) script: minutes are what an agent reads, and it says which zone.</summary>
    public static string Text(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
}
